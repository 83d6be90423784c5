"""The `chainrule` command: the lecture's w52 example and small training runs.

    chainrule w52 [--svg PATH | --no-svg]   the lecture's w52 network worked through, with its drawing
    chainrule w52 --focus NODE              only the chain from the loss L to NODE, and its player
    chainrule train {xor,moons,iris}        train a small network and print its progress
    chainrule --version                     print the installed version
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence, TextIO

from chainrule import __version__


def _print_table(rows: list[tuple[str, ...]], out: TextIO) -> None:
    """Print `rows` right-aligned in columns, the first row being the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  " + "  ".join(cell.rjust(width) for cell, width in zip(row, widths)), file=out)


# What `chainrule w52` prints first: the network, and how its weights are named.
W52_INTRODUCTION = """\
The lecture's w52 network: two inputs x1 = 1.7 and x2 = 3.5; five hidden units, each
u_j = w1j*x1 + w2j*x2 passed through phi(u) = 1/u, so v_j = 1/u_j; then
F = v1*v2 + v3/v4 - v5, the output y = sigmoid(F) and the loss L = (y - 2)^2.

Weights are named as the lecture's weight table names them: wij is the weight from input xi
into hidden unit j. The question asks for dL/dw52, the weight from x2 into hidden unit 5,
which the question calls w52 and the weight table lists as w25 (the question writes the unit
first, the table the input first): the same weight, 1.3.
"""


def run_w52(svg_path: str | None, out: TextIO = sys.stdout) -> int:
    """Build the w52 network, backpropagate, print values, gradients and the slide's chain, draw the SVG."""
    from chainrule.w52 import build_w52, w52_chain

    graph = build_w52()
    graph.L.backward()
    print(W52_INTRODUCTION, file=out)
    print("(1) forward pass and (2) backward pass, every named node:", file=out)
    rows = [("node", "value", "dL/dnode")]
    rows += [(node.label, f"{node.data:.6g}", f"{node.grad:.6g}") for node in graph.nodes()]
    _print_table(rows, out)
    print("\n(3) dL/dw52, the gradient the question asks for (w25 in the table above), as the\n"
          "slide derives it: one chain-rule step per row, from the weight up to the loss; each\n"
          "row's upstream gradient is the product of the row below it.", file=out)
    rows = [("step", "chain rule", "upstream", "local", "= product")]
    rows += [(step, formula, f"{up:.6g}", f"{local:.6g}", f"{product:.6g}")
             for step, formula, up, local, product in w52_chain(graph)]
    _print_table(rows, out)
    if svg_path:
        from viz import save

        save(graph.L, svg_path, labels={graph.w52: "w52"})  # .svg, .png or .pdf by the suffix
        print(f"\nwrote the gradient graph to {svg_path}; it labels the asked-for weight w52, as "
              "the question does (the table above lists it as w25)", file=out)
    return 0


def _train_xor(epochs: int, out: TextIO) -> float:
    """Train a scalar MLP on XOR with Adam; return the final training accuracy."""
    from nn import MLP, losses
    from nn.data import make_xor
    from nn.optim import Adam
    from nn import fit_scalar

    inputs, labels = make_xor()
    model = MLP(2, [4, 1], activation="tanh", output_activation="sigmoid", seed=0)
    optimizer = Adam(model.parameters(), lr=0.1)
    history = fit_scalar(model, inputs.tolist(), labels.tolist(), losses.binary_cross_entropy, optimizer,
                         epochs, progress=None, print_every=max(1, epochs // 20), out=out)
    return history.accuracy[-1]


def _train_moons(epochs: int, out: TextIO) -> float:
    """Train a scalar MLP on two moons with SGD and the hinge loss; return the final training accuracy."""
    from nn import MLP, losses
    from nn.data import make_moons
    from nn.optim import SGD
    from nn import fit_scalar

    inputs, labels = make_moons(100, noise=0.1, seed=0)
    signs = [2.0 * label - 1.0 for label in labels.tolist()]  # hinge loss wants targets -1 / +1
    model = MLP(2, [16, 16, 1], activation="relu", seed=0)
    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
    history = fit_scalar(model, inputs.tolist(), signs, losses.hinge, optimizer, epochs,
                         labels=labels.tolist(), threshold=0.0, progress=None,
                         print_every=max(1, epochs // 20), out=out)
    return history.accuracy[-1]


def run_train(dataset: str, epochs: int | None, out: TextIO = sys.stdout) -> int:
    """Train on `dataset` and print the loss per epoch and the final accuracy."""
    if dataset == "iris":
        from nn.training import train_iris

        n = epochs or 100
        _, _, test_accuracy = train_iris(seed=0, epochs=n, print_every=max(1, n // 20), out=out)
        print(f"iris: test accuracy {test_accuracy:.3f} (tensor MLP, held-out split)", file=out)
        return 0
    trainers = {"xor": (_train_xor, 300), "moons": (_train_moons, 40)}
    trainer, default_epochs = trainers[dataset]
    final = trainer(epochs or default_epochs, out)
    print(f"{dataset}: final training accuracy {final:.3f} (scalar MLP)", file=out)
    return 0


# One line per subcommand for `chainrule --help`, with its usual time (a 2-core x86_64 VM,
# warm kernel cache; `time chainrule ...`).
W52_HELP = ("the lecture's w52 network worked through: every node's value and gradient, the "
            "slide's chain for dL/dw52, and its drawing (about 1 s)")
TRAIN_HELP = "train a small network and print its loss and accuracy per epoch (1-8 s)"
DATASET_HELP = {
    "xor": "a 2-4-1 scalar MLP on the four XOR points, Adam, 300 epochs (about 1 s)",
    "moons": "a 2-16-16-1 scalar MLP on 100 noisy two-moons points, hinge loss, SGD with "
             "momentum, 40 epochs (about 7 s)",
    "iris": "a 4-16-16-3 tensor MLP on Fisher's iris, cross-entropy, Adam, 100 epochs; reports "
            "the accuracy on a held-out 30% (about 1 s)",
}


def build_parser() -> argparse.ArgumentParser:
    """The command line of `chainrule`: its subcommands, each with a one-line description and
    its usual time."""
    parser = argparse.ArgumentParser(
        prog="chainrule", description=__doc__.split("\n\n")[0],
        epilog="Run `chainrule COMMAND --help` for a command's options. The first tensor operation "
               "on large arrays after installing compiles Numba kernels once (a few seconds, said "
               "on stderr); `make demo` does that up front.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     title="commands")
    w52 = commands.add_parser("w52", help=W52_HELP, description=W52_HELP)
    w52.add_argument("--svg", default="w52.svg", metavar="PATH",
                     help="where to write the drawing of the graph, every node's value and "
                          "gradient on it (default w52.svg)")
    w52.add_argument("--no-svg", action="store_true", help="do not draw the graph")
    w52.add_argument("--focus", metavar="NODE",
                     help="only the chain(s) from the loss L to NODE (w52, u5, x1, ...): print "
                          "those backward steps and write NODE-chain.html, a player that steps "
                          "through them (about 1 s)")
    train = commands.add_parser(
        "train", help=TRAIN_HELP, description=TRAIN_HELP,
        epilog="data sets:\n" + "\n".join(f"  {name:<6} {text}" for name, text in DATASET_HELP.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    train.add_argument("dataset", choices=list(DATASET_HELP), help="xor, moons or iris (see below)")
    train.add_argument("--epochs", type=int, default=None, help="number of epochs (default per data set)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `chainrule` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "w52" and args.focus:
            from chainrule.focus import run_w52_focus
            return run_w52_focus(args.focus)
        if args.command == "w52":
            return run_w52(None if args.no_svg else args.svg)
        if args.epochs is not None and args.epochs < 1:
            parser.error(f"--epochs must be at least 1, got {args.epochs}")
        return run_train(args.dataset, args.epochs)
    except BrokenPipeError:  # `chainrule w52 | head`: the reader left, which is no error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
