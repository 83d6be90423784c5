"""`Module`: the one base class of scalar and tensor networks.

A module's parameters are found by walking its attributes in definition order: sub-modules,
lists/tuples of modules or parameters, `Value`s, and tensors that require a gradient. Each
parameter gets a stable dotted name such as ``layers.0.neurons.1.w.2``, which is also set as
its ``label`` so that graph drawings show it. Attributes whose names start with ``_`` are
private and never walked.
"""

from __future__ import annotations

import functools
import json
import os
import pathlib
import types
import zipfile
import zlib
from typing import Any, Iterator, Mapping

import numpy as np

from autograd_core.value import Value

# A parameter is a `Value` or a tensor with ``requires_grad`` (autograd_core.Tensor is written
# separately, so tensors are recognised by their attributes, not by their class).
Parameter = Any

# The archive entry that records which class was saved and how to construct it. Parameter
# names never start with "_", so it cannot collide with one.
_METADATA_KEY = "__chainrule_module__"
_ZIP_SIGNATURE = b"PK\x03\x04"


class ModelFileError(ValueError):
    """A model file that cannot be read, or that does not fit the model it is loaded into."""


def is_tensor_parameter(obj: object) -> bool:
    """True for a tensor (an object with an ndarray ``.data``) whose ``requires_grad`` is true."""
    requires_grad = getattr(obj, "requires_grad", False)
    return (isinstance(requires_grad, (bool, np.bool_)) and bool(requires_grad)
            and isinstance(getattr(obj, "data", None), np.ndarray))


def is_parameter(obj: object) -> bool:
    """True for what a module's walk collects: a `Value`, or a tensor that requires a gradient."""
    return isinstance(obj, Value) or is_tensor_parameter(obj)


def clear_parameter_grad(parameter: Parameter) -> None:
    """Reset one parameter's gradient: 0.0 for a `Value`, None for a tensor (as PyTorch does)."""
    parameter.grad = 0.0 if isinstance(parameter, Value) else None


def _parameter_array(parameter: Parameter) -> np.ndarray:
    """A copy of the parameter's data: a 0-d float64 array for a `Value`."""
    if isinstance(parameter, Value):
        return np.array(parameter.data, dtype=np.float64)
    return np.array(parameter.data, copy=True)


def _parameter_shape(parameter: Parameter) -> tuple[int, ...]:
    return () if isinstance(parameter, Value) else tuple(np.shape(parameter.data))


class _ClassOrInstanceMethod:
    """A method that receives the class when called on the class, and the instance otherwise."""

    def __init__(self, method: Any) -> None:
        self.__func__ = method
        functools.update_wrapper(self, method)

    def __get__(self, instance: object, owner: type) -> Any:
        return types.MethodType(self.__func__, owner if instance is None else instance)


def _walk_attributes(module: "Module", prefix: str, seen: set[int]) -> Iterator[tuple[str, Any]]:
    for name, attribute in vars(module).items():
        if not name.startswith("_"):
            yield from _walk_member(prefix + name, attribute, seen)


def _walk_member(name: str, attribute: Any, seen: set[int]) -> Iterator[tuple[str, Any]]:
    # `seen` holds the ids already walked: a module or parameter reachable twice keeps its first name.
    if isinstance(attribute, Module):
        if id(attribute) not in seen:
            seen.add(id(attribute))
            yield name, attribute
            yield from _walk_attributes(attribute, name + ".", seen)
    elif isinstance(attribute, (list, tuple)):
        for index, item in enumerate(attribute):
            yield from _walk_member(f"{name}.{index}", item, seen)
    elif is_parameter(attribute) and id(attribute) not in seen:
        seen.add(id(attribute))
        yield name, attribute


class Module:
    """The base class of every network, scalar or tensor: finds its parameters, resets their
    gradients, switches train/eval mode, saves and loads.

    >>> from nn import MLP, Module
    >>> model = MLP(2, [3, 1], seed=0)
    >>> len(model.parameters()), model.named_parameters()[0][0]
    (13, 'layers.0.neurons.0.w.0')
    >>> str(model.save("model"))                # a numpy .npz archive; the suffix is added
    'model.npz'
    >>> Module.load("model.npz")                # builds the class the file records
    MLP(2, [3, 1], activation='tanh', output_activation=None)

    Subclasses set their parameters and sub-modules as attributes in ``__init__``; once the
    outermost ``__init__`` returns, every parameter is labelled with its dotted name. To be
    loadable with ``TheClass.load(path)`` (without building the model first), a subclass
    returns its constructor arguments from `config`.
    """

    training: bool = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:
            return

        @functools.wraps(init)
        def init_then_label(self: Module, *args: Any, **init_kwargs: Any) -> None:
            init(self, *args, **init_kwargs)
            # Runs after every constructor in the chain; the outermost one, which sees the
            # whole model, runs last and sets the final names.
            self.label_parameters()

        cls.__init__ = init_then_label  # type: ignore[method-assign]

    # -- walking the attributes ----------------------------------------------------------

    def _members(self) -> Iterator[tuple[str, Any]]:
        """(dotted name, sub-module or parameter), depth first in definition order, each once."""
        return _walk_attributes(self, "", seen={id(self)})

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        """(dotted name, parameter) for every parameter, in attribute definition order."""
        return [(name, item) for name, item in self._members() if not isinstance(item, Module)]

    def parameters(self) -> list[Parameter]:
        """Every parameter (`Value`s and tensors that require a gradient), each once."""
        return [parameter for _, parameter in self.named_parameters()]

    def named_modules(self) -> list[tuple[str, "Module"]]:
        """(dotted name, module) for this module (named "") and every sub-module."""
        return [("", self)] + [(name, item) for name, item in self._members() if isinstance(item, Module)]

    def label_parameters(self) -> None:
        """Set each parameter's ``label`` to its dotted name (done automatically after ``__init__``)."""
        for name, parameter in self.named_parameters():
            if hasattr(parameter, "label"):
                parameter.label = name

    # -- gradients and mode ----------------------------------------------------------------

    def zero_grad(self) -> None:
        """Reset every parameter's gradient: a `Value`'s to 0.0, a tensor's to None."""
        for parameter in self.parameters():
            clear_parameter_grad(parameter)

    def train(self, mode: bool = True) -> "Module":
        """Set the ``training`` flag of this module and every sub-module; returns self."""
        if not isinstance(mode, bool):
            raise TypeError(f"train(mode): mode must be a bool, got {type(mode).__name__}: {mode!r}")
        for _, module in self.named_modules():
            module.training = mode
        return self

    def eval(self) -> "Module":
        """Switch this module and every sub-module to evaluation mode (``training = False``)."""
        return self.train(False)

    # -- state -------------------------------------------------------------------------------

    def config(self) -> dict[str, Any] | None:
        """The constructor's keyword arguments, so that ``type(self)(**config)`` rebuilds the
        architecture; None (the default) when the module does not record them."""
        return None

    def state_dict(self) -> dict[str, np.ndarray]:
        """Dotted name -> a copy of the parameter's data (a `Value` becomes a 0-d float64 array)."""
        return {name: _parameter_array(parameter) for name, parameter in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> None:
        """Copy the arrays of `state` into the parameters of the same names.

        Raises ValueError listing every missing key, unexpected key (both only when `strict`),
        shape mismatch (with both shapes) and non-numeric entry; nothing is changed then.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict expects a mapping of name -> array, got {type(state).__name__}")
        parameters = dict(self.named_parameters())
        problems = []
        missing = [name for name in parameters if name not in state]
        unexpected = [name for name in state if name not in parameters]
        if strict and missing:
            problems.append(f"missing keys: {missing}")
        if strict and unexpected:
            problems.append(f"unexpected keys: {unexpected}")
        arrays = {}
        for name, parameter in parameters.items():
            if name not in state:
                continue
            array = np.asarray(state[name])
            if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.number) \
                    or np.issubdtype(array.dtype, np.complexfloating):
                problems.append(f"{name}: expected real numbers, got dtype {array.dtype}")
            elif array.shape != _parameter_shape(parameter):
                problems.append(f"shape mismatch for {name}: the model has shape "
                                f"{_parameter_shape(parameter)}, the state has shape {array.shape}")
            else:
                arrays[name] = array
        if problems:
            raise ValueError(f"{type(self).__name__}.load_state_dict: " + "; ".join(problems))
        for name, array in arrays.items():
            parameter = parameters[name]
            if isinstance(parameter, Value):
                parameter.data = float(array)
            else:
                parameter.data = np.array(array, dtype=parameter.data.dtype, copy=True)

    # -- files ---------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> pathlib.Path:
        """Write the parameters, the class and its `config` to `path`, a numpy .npz archive;
        return the path written.

        A path without a suffix gets ``.npz``: ``model.save("mymodel")`` writes ``mymodel.npz``.
        Any other suffix (``"m.pt"``, ``"m.pkl"``) is refused with a ValueError, since the file
        is not in that format. Read it back with ``model.load(path)`` or ``TheClass.load(path)``
        (``Module.load(path)`` builds whatever class the file records).

        The file is written next to `path` and then renamed, so a failed save never leaves a
        truncated file where a good one was.
        """
        path = _npz_path(path)
        metadata = json.dumps(_module_record(self))
        entries = {_METADATA_KEY: np.array(metadata), **self.state_dict()}
        partial = f"{path}.partial"
        try:
            with zipfile.ZipFile(partial, "w") as archive:
                for name, array in entries.items():
                    with archive.open(name + ".npy", "w", force_zip64=True) as member:
                        np.lib.format.write_array(member, array, allow_pickle=False)
            os.replace(partial, path)
        except OSError as error:
            raise OSError(f"cannot save {type(self).__name__} to {os.fspath(path)!r}: {error}") from error
        finally:
            if os.path.exists(partial):
                os.remove(partial)
        return path

    @_ClassOrInstanceMethod
    def load(target: "Module | type[Module]", path: str | os.PathLike[str]) -> "Module":
        """Read a file written by `save`.

        ``model.load(path)`` copies the file's parameters into `model` and returns it.
        ``TheClass.load(path)`` builds the class the file records, which must be `TheClass` or
        a subclass of it, from its recorded `config`, and returns it: ``Module.load(path)``
        loads any model, ``Sequential.load(path)`` a Sequential's file (or a TensorMLP's).
        A path without a suffix that names no file reads ``path + ".npz"``, as `save` writes it.
        A missing, truncated or foreign file, or one that does not fit, raises an error that
        names the path and the problem.
        """
        path = _existing_model_path(path)
        metadata, arrays = _read_model_file(path)
        if isinstance(target, type):
            target = _construct_from_metadata(target, metadata, path, arrays)
        try:
            target.load_state_dict(arrays)
        except ValueError as error:
            raise ModelFileError(f"{os.fspath(path)!r} does not fit this {type(target).__name__}: {error}") from None
        return target

    @classmethod
    def parameter_shapes(cls, config: dict[str, Any]) -> dict[str, tuple[int, ...]] | None:
        """The parameters (name -> shape) a module built from `config` would have, computed
        without building it, or None where the class cannot tell (loading checks a file's
        config against its arrays with it before allocating anything)."""
        return None

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Module":
        """A new module built from what `config` returned: ``cls(**config)`` unless a subclass
        says otherwise (`Sequential` rebuilds its layers). Used by ``TheClass.load(path)``."""
        return cls(**config)


_MODEL_SUFFIX = ".npz"


def _npz_path(path: str | os.PathLike[str]) -> pathlib.Path:
    """`path` as save writes it: .npz added when there is no suffix; any other suffix refused."""
    path = pathlib.Path(os.fspath(path))
    suffix = path.suffix
    if not suffix:
        return path.with_name(path.name + _MODEL_SUFFIX)
    if suffix.lower() != _MODEL_SUFFIX:
        hint = " (it is not a PyTorch file: torch.load could not read it)" if suffix.lower() in (".pt", ".pth") else ""
        raise ValueError(f"cannot save to {os.fspath(path)!r}: chainrule saves a model as a numpy .npz "
                         f"archive, not a {suffix} file{hint}; give a path ending in .npz, e.g. "
                         f"{os.fspath(path.with_suffix(_MODEL_SUFFIX))!r}, or no suffix and .npz is added")
    return path


def _existing_model_path(path: str | os.PathLike[str]) -> str | os.PathLike[str]:
    """`path`, or ``path + ".npz"`` when `path` has no suffix, names no file, and that one exists."""
    plain = pathlib.Path(os.fspath(path))
    if not plain.suffix and not plain.exists():
        with_suffix = plain.with_name(plain.name + _MODEL_SUFFIX)
        if with_suffix.exists():
            return with_suffix
    return path


def _module_record(module: Module) -> dict[str, Any]:
    """What a file records about a module: its class (qualified name and module) and `config`."""
    cls = type(module)
    return {"class": cls.__qualname__, "module": cls.__module__, "config": module.config()}


def _all_module_classes() -> list[type[Module]]:
    """Module and every subclass defined so far, each once."""
    found, pending = [Module], [Module]
    while pending:
        for subclass in pending.pop().__subclasses__():
            if subclass not in found:
                found.append(subclass)
                pending.append(subclass)
    return found


def _recorded_class(record: dict[str, Any], expected: type[Module], where: str) -> type[Module]:
    """The class a file records, looked up among the Module classes defined in this process
    (a file never makes us import anything); it must be `expected` or a subclass of it."""
    name, module_name = record["class"], record.get("module")
    matches = [cls for cls in _all_module_classes() if cls.__qualname__ == name]
    if module_name is not None and any(cls.__module__ == module_name for cls in matches):
        matches = [cls for cls in matches if cls.__module__ == module_name]
    fitting = [cls for cls in matches if issubclass(cls, expected)]
    if expected in fitting:
        return expected
    if len(fitting) == 1:
        return fitting[0]
    if len(fitting) > 1:
        raise ModelFileError(f"{where} holds a {name}, and several classes of that name are defined "
                             f"({', '.join(cls.__module__ for cls in fitting)}); load it with the "
                             f"class itself: TheClass.load({where})")
    if matches:
        raise ModelFileError(f"{where} holds a {name}, not a {expected.__qualname__}")
    origin = f" (defined in {module_name})" if module_name else ""
    raise ModelFileError(f"{where} holds a {name}{origin}, a class this process has not defined: "
                         f"import the module that defines it first")


def build_module(record: Any, expected: type[Module] | None = None, where: str = "the file") -> Module:
    """A new module from a record ``{"class", "module", "config"}`` as `save` writes it; the
    class must be `expected` (default: any Module) or a subclass of it."""
    if not isinstance(record, dict) or not isinstance(record.get("class"), str):
        raise ModelFileError(f"{where}: a module record must name its class, got {record!r}")
    cls = _recorded_class(record, expected or Module, where)
    config = record.get("config")
    if not isinstance(config, dict):
        raise ModelFileError(f"{where}: {cls.__qualname__} does not record its constructor arguments "
                             f"(config() returned None); build the model and call model.load({where}) on it")
    try:
        return cls.from_config(config)
    except ModelFileError:
        raise
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"{where}: cannot rebuild {cls.__qualname__}(**{config}): {error}") from None


def _read_model_file(path: str | os.PathLike[str]) -> tuple[dict[str, Any] | None, dict[str, np.ndarray]]:
    """(metadata or None, name -> array) from a .npz file, with errors that name the path."""
    where = repr(os.fspath(path))
    try:
        with open(path, "rb") as file:
            signature = file.read(len(_ZIP_SIGNATURE))
    except FileNotFoundError:
        raise FileNotFoundError(f"no model file at {where}") from None
    except OSError as error:
        raise OSError(f"cannot read the model file {where}: {error}") from error
    if signature != _ZIP_SIGNATURE:
        raise ModelFileError(f"{where} is not a .npz model file: it does not start with the zip "
                             f"signature {_ZIP_SIGNATURE!r} (it starts with {signature!r})")
    try:
        with np.load(path, allow_pickle=False) as archive:
            foreign = [name for name in archive.zip.namelist() if not name.endswith(".npy")]
            if foreign:
                raise ValueError(f"its entries {foreign} are not numpy arrays (.npy)")
            arrays = {name: archive[name] for name in archive.files}
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError) as error:
        raise ModelFileError(f"{where} is a truncated or corrupted .npz file, or was not written by "
                             f"numpy ({type(error).__name__}: {error})") from None
    if _METADATA_KEY not in arrays:
        return None, arrays
    try:
        metadata = json.loads(str(arrays.pop(_METADATA_KEY)[()]))
        if not isinstance(metadata, dict) or not isinstance(metadata.get("class"), str):
            raise ValueError("it is not an object with a 'class' name")
    except (ValueError, IndexError, TypeError) as error:
        raise ModelFileError(f"{where} has an unreadable {_METADATA_KEY} entry: {error}") from None
    return metadata, arrays


def _construct_from_metadata(cls: type[Module], metadata: dict[str, Any] | None, path: Any,
                             arrays: dict[str, np.ndarray]) -> Module:
    where = repr(os.fspath(path))
    if metadata is None:
        raise ModelFileError(f"{where} does not record which model it holds; build the model and call "
                             f"model.load({where}) on it")
    _check_config_against_arrays(metadata, cls, arrays, where)
    return build_module(metadata, cls, where)


def _check_config_against_arrays(metadata: dict[str, Any], cls: type[Module],
                                 arrays: dict[str, np.ndarray], where: str) -> None:
    """Before anything is allocated: the parameters the recorded config would make must be the
    arrays the file stores (a file whose config says sizes=[10**7, 10**7] is refused here, not
    after an attempt to allocate 728 TiB)."""
    if not isinstance(metadata.get("class"), str) or not isinstance(metadata.get("config"), dict):
        return  # build_module explains what is missing
    expected = _recorded_class(metadata, cls, where).parameter_shapes(metadata["config"])
    if expected is None:
        return
    stored = {name: tuple(array.shape) for name, array in arrays.items()}
    if expected != stored:
        differences = [f"{name}: config {expected.get(name)} vs stored {stored.get(name)}"
                       for name in sorted(set(expected) | set(stored))
                       if expected.get(name) != stored.get(name)]
        raise ModelFileError(f"{where}: its config {metadata['config']} does not match its stored "
                             f"arrays ({'; '.join(differences[:4])}"
                             f"{'; ...' if len(differences) > 4 else ''}); the file is corrupt")


__all__ = ["Module", "ModelFileError", "Parameter", "is_parameter", "is_tensor_parameter",
           "clear_parameter_grad", "build_module"]
