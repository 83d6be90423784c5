"""Module: the attribute walk, names and labels, zero_grad, train/eval, state dicts and files."""

from __future__ import annotations

import gc
import io
import json
import struct
import zipfile

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_core import Tensor, Value
from nn import MLP, SGD, Layer, ModelFileError, Module, Neuron


class FakeTensor:
    """Only what the walk relies on: an ndarray ``data``, a ``grad`` and ``requires_grad``."""

    def __init__(self, data, requires_grad=True):
        self.data = np.asarray(data, dtype=np.float64)
        self.grad = np.ones_like(self.data)
        self.requires_grad = requires_grad
        self.label = ""


class Mixed(Module):
    def __init__(self):
        self.scale = Value(2.0)
        self.blocks = [Neuron(2, seed=0), (Value(1.0), Value(3.0))]
        self._cache = Value(9.0)  # private: never a parameter
        self.frozen = FakeTensor([1.0, 2.0], requires_grad=False)
        self.weight = FakeTensor([[1.0, 2.0], [3.0, 4.0]])
        self.shared = self.scale  # the same Value again keeps its first name
        self.notes = ["text", 3, 4.5]
        self.inner = MLP(2, [1], seed=0)


def test_named_parameters_follow_definition_order():
    model = MLP(2, [2, 1], seed=0)
    assert [name for name, _ in model.named_parameters()] == [
        "layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.b",
        "layers.0.neurons.1.w.0", "layers.0.neurons.1.w.1", "layers.0.neurons.1.b",
        "layers.1.neurons.0.w.0", "layers.1.neurons.0.w.1", "layers.1.neurons.0.b",
    ]
    assert model.parameters()[4] is model.layers[0].neurons[1].w[1]
    assert model.parameters()[5] is model.layers[0].neurons[1].b


def test_parameters_are_labelled_with_their_names():
    model = MLP(3, [2, 2], seed=0)
    assert all(parameter.label == name for name, parameter in model.named_parameters())
    assert model.layers[1].neurons[1].w[0].label == "layers.1.neurons.1.w.0"
    assert Neuron(2).b.label == "b"
    assert Layer(2, 2).neurons[1].w[1].label == "neurons.1.w.1"


def test_walk_covers_lists_tuples_values_tensors_and_skips_the_rest():
    model = Mixed()
    named = model.named_parameters()
    assert [name for name, _ in named] == [
        "scale", "blocks.0.w.0", "blocks.0.w.1", "blocks.0.b", "blocks.1.0", "blocks.1.1",
        "weight", "inner.layers.0.neurons.0.w.0", "inner.layers.0.neurons.0.w.1", "inner.layers.0.neurons.0.b",
    ]
    assert model.weight.label == "weight"
    # The outer constructor relabels the inner model's parameters with their full names.
    assert model.inner.layers[0].neurons[0].b.label == "inner.layers.0.neurons.0.b"
    assert [name for name, _ in model.named_modules()] == ["", "blocks.0", "inner", "inner.layers.0",
                                                           "inner.layers.0.neurons.0"]


def test_walk_works_with_real_tensors():
    class Affine(Module):
        def __init__(self):
            self.weight = Tensor(np.ones((2, 3)), requires_grad=True)
            self.bias = Tensor(np.zeros(3), requires_grad=True)
            self.constant = Tensor(np.ones(3))

    model = Affine()
    assert [name for name, _ in model.named_parameters()] == ["weight", "bias"]
    assert model.bias.label == "bias"
    model.weight.grad = np.ones((2, 3))
    model.zero_grad()
    assert model.weight.grad is None
    assert model.state_dict()["weight"].shape == (2, 3)


def test_zero_grad_sets_values_to_zero_and_tensors_to_none():
    model = Mixed()
    for parameter in model.parameters():
        if isinstance(parameter, Value):
            parameter.grad = 5.0
    model.zero_grad()
    assert all(p.grad == 0.0 and isinstance(p.grad, float) for p in model.parameters() if isinstance(p, Value))
    assert model.weight.grad is None
    assert model.frozen.grad is not None  # not a parameter, so not touched


def test_train_and_eval_set_the_flag_everywhere():
    model = Mixed()
    assert model.training and model.inner.layers[0].neurons[0].training
    assert model.eval() is model
    assert [m.training for _, m in model.named_modules()] == [False] * 5
    model.train()
    assert all(m.training for _, m in model.named_modules())
    with pytest.raises(TypeError, match="mode must be a bool"):
        model.train("yes")


def test_a_cycle_between_modules_is_walked_once():
    model = MLP(2, [1], seed=0)
    model.layers[0].owner = model
    assert len(model.parameters()) == 3


def test_building_training_and_dropping_a_model_leaves_no_reference_cycles(tmp_path):
    gc.collect()
    gc.disable()
    try:
        model = MLP(2, [4, 1], seed=0)
        optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
        model([0.5, -1.0]).backward()
        optimizer.step()
        model.eval().train()
        model.save(tmp_path / "model.npz")  # (loading is left out: numpy's header parser makes cycles)
        model.load_state_dict(model.state_dict())
        del model, optimizer
        assert gc.collect() == 0  # everything was freed by reference counting alone
    finally:
        gc.enable()


# -- state dicts ------------------------------------------------------------------------------

def test_state_dict_holds_0d_float64_copies():
    model = MLP(2, [2, 1], seed=0)
    state = model.state_dict()
    assert list(state) == [name for name, _ in model.named_parameters()]
    array = state["layers.0.neurons.1.w.0"]
    assert array.shape == () and array.dtype == np.float64
    assert float(array) == model.layers[0].neurons[1].w[0].data
    array[()] = 123.0
    assert model.layers[0].neurons[1].w[0].data != 123.0


def test_load_state_dict_copies_every_value():
    source, target = MLP(2, [3, 1], seed=1), MLP(2, [3, 1], seed=2)
    target.load_state_dict(source.state_dict())
    assert [p.data for p in target.parameters()] == [p.data for p in source.parameters()]
    assert all(type(p.data) is float for p in target.parameters())


def test_load_state_dict_lists_missing_and_unexpected_keys_and_changes_nothing():
    model = MLP(2, [1], seed=0)
    before = [p.data for p in model.parameters()]
    state = model.state_dict()
    del state["layers.0.neurons.0.b"]
    state["layers.0.neurons.0.w.7"] = np.array(1.0)
    state["layers.0.neurons.0.w.0"] = np.array(42.0)
    with pytest.raises(ValueError, match=r"missing keys: \['layers.0.neurons.0.b'\]; "
                                         r"unexpected keys: \['layers.0.neurons.0.w.7'\]"):
        model.load_state_dict(state)
    assert [p.data for p in model.parameters()] == before
    model.load_state_dict(state, strict=False)
    assert model.layers[0].neurons[0].w[0].data == 42.0
    assert model.layers[0].neurons[0].b.data == before[2]


def test_load_state_dict_reports_shape_mismatches_with_both_shapes():
    model = MLP(2, [1], seed=0)
    state = model.state_dict()
    state["layers.0.neurons.0.b"] = np.zeros(3)
    with pytest.raises(ValueError, match=r"shape mismatch for layers.0.neurons.0.b: the model has shape \(\), "
                                         r"the state has shape \(3,\)"):
        model.load_state_dict(state)
    with pytest.raises(ValueError, match="shape mismatch"):
        model.load_state_dict(state, strict=False)

    tensor_model = Mixed()
    state = tensor_model.state_dict()
    state["weight"] = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"weight: the model has shape \(2, 2\), the state has shape \(3, 2\)"):
        tensor_model.load_state_dict(state)


def test_load_state_dict_rejects_non_numbers_and_non_mappings():
    model = MLP(1, [1], seed=0)
    state = model.state_dict()
    state["layers.0.neurons.0.b"] = np.array("zero")
    with pytest.raises(ValueError, match="layers.0.neurons.0.b: expected real numbers, got dtype <U4"):
        model.load_state_dict(state)
    state["layers.0.neurons.0.b"] = np.array(True)
    with pytest.raises(ValueError, match="expected real numbers, got dtype bool"):
        model.load_state_dict(state)
    with pytest.raises(TypeError, match="expects a mapping of name -> array, got list"):
        model.load_state_dict([1.0, 2.0])


def test_load_state_dict_into_tensors_copies_the_array():
    model = Mixed()
    new_weight = np.array([[5.0, 6.0], [7.0, 8.0]])
    state = model.state_dict()
    state["weight"] = new_weight
    model.load_state_dict(state)
    new_weight[0, 0] = -1.0
    assert model.weight.data.tolist() == [[5.0, 6.0], [7.0, 8.0]]


# -- files -------------------------------------------------------------------------------------

bit_patterns = st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=True)


@given(values=st.lists(bit_patterns, min_size=9, max_size=9))
def test_save_and_load_round_trip_bit_for_bit(tmp_path_factory, values):
    path = tmp_path_factory.mktemp("models") / "model.npz"
    model = MLP(2, [2, 1], activation="relu", seed=0)
    for parameter, value in zip(model.parameters(), values):
        parameter.data = value
    model.save(path)
    by_class = MLP.load(path)
    by_instance = MLP(2, [2, 1], activation="relu", seed=5).load(path)
    expected = [struct.pack("<d", v) for v in values]
    for loaded in (by_class, by_instance):
        assert [struct.pack("<d", p.data) for p in loaded.parameters()] == expected
        assert [p.label for p in loaded.parameters()] == [name for name, _ in model.named_parameters()]
    assert repr(by_class) == repr(model)


def test_save_writes_exactly_the_given_npz_path_and_returns_it(tmp_path):
    path = tmp_path / "weights.npz"
    assert Layer(2, 2, seed=0).save(str(path)) == path
    assert sorted(p.name for p in tmp_path.iterdir()) == ["weights.npz"]
    assert isinstance(Layer.load(path), Layer)


def test_save_adds_npz_to_a_path_without_a_suffix_and_load_finds_it(tmp_path):
    model = MLP(2, [3, 1], seed=0)
    written = model.save(tmp_path / "mymodel")
    assert written == tmp_path / "mymodel.npz"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mymodel.npz"]
    for path in (tmp_path / "mymodel", tmp_path / "mymodel.npz", str(tmp_path / "mymodel")):
        loaded = MLP.load(path)
        assert [p.data for p in loaded.parameters()] == [p.data for p in model.parameters()]
    assert "mymodel.npz" in Module.save.__doc__  # the docstring says so


@pytest.mark.parametrize("name, suffix", [("m.pt", ".pt"), ("m.pth", ".pth"), ("model.pkl", ".pkl"),
                                          ("weights.bin", ".bin")])
def test_save_refuses_another_suffix_naming_it_and_the_fix(tmp_path, name, suffix):
    with pytest.raises(ValueError, match=rf"cannot save to '.*{name}': .* not a \{suffix} file.*"
                                         rf"ending in \.npz, e.g. '.*{name.split('.')[0]}\.npz'"):
        MLP(2, [1], seed=0).save(tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_module_load_builds_the_class_the_file_records(tmp_path):
    for model in (MLP(2, [3, 1], seed=0), Layer(2, 3, seed=1), Neuron(3, seed=2)):
        path = model.save(tmp_path / f"{type(model).__name__}.npz")
        loaded = Module.load(path)
        assert type(loaded) is type(model) and repr(loaded) == repr(model)
        assert [p.data for p in loaded.parameters()] == [p.data for p in model.parameters()]


def test_tensor_models_round_trip_through_module_load_and_their_own_class(tmp_path):
    from nn import ELU, Identity, LeakyReLU, Linear, ReLU, Sequential, Sigmoid, Softmax, Tanh, TensorMLP

    x = np.random.default_rng(0).normal(size=(6, 4))
    sequential = Sequential(Linear(4, 8, seed=0), ReLU(), Linear(8, 8, seed=1), Tanh(), Identity(),
                            Linear(8, 8, seed=2), LeakyReLU(0.1), ELU(0.5), Sequential(Linear(8, 3, seed=3),
                                                                                  Sigmoid()), Softmax(axis=-1))
    path = sequential.save(tmp_path / "seq")
    assert path.name == "seq.npz"
    for loaded in (Module.load(path), Sequential.load(path), Sequential.load(tmp_path / "seq")):
        assert type(loaded) is Sequential and repr(loaded) == repr(sequential)
        assert loaded(x).data.tobytes() == sequential(x).data.tobytes()
        assert [name for name, _ in loaded.named_parameters()] == [n for n, _ in sequential.named_parameters()]
    mlp = TensorMLP([4, 5, 3], activation="tanh", seed=0)
    path = mlp.save(tmp_path / "mlp.npz")
    for loaded in (Module.load(path), Sequential.load(path), TensorMLP.load(path)):
        assert type(loaded) is TensorMLP and loaded.config() == mlp.config()
        assert loaded(x).data.tobytes() == mlp(x).data.tobytes()
    with pytest.raises(ModelFileError, match=r"mlp.npz' holds a TensorMLP, not a Linear"):
        Linear.load(path)


def test_a_sequential_with_a_layer_that_records_nothing_names_that_layer(tmp_path):
    from nn import Linear, Sequential
    from nn.layers import TensorModule

    class Scale(TensorModule):
        def forward(self, x):
            return x * 2.0

    path = Sequential(Linear(2, 2, seed=0), Scale()).save(tmp_path / "seq.npz")
    with pytest.raises(ModelFileError, match="layer 1 of the Sequential: .*Scale does not record its "
                                             "constructor arguments"):
        Sequential.load(path)


def test_a_class_this_process_has_not_defined_is_named_not_imported(tmp_path):
    path = MLP(2, [1], seed=0).save(tmp_path / "m.npz")
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    forged = tmp_path / "forged.npz"
    metadata = np.lib.format.read_array(io.BytesIO(entries["__chainrule_module__.npy"]))
    record = json.loads(str(metadata[()]))
    record.update({"class": "Nowhere", "module": "some_package.models"})
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.array(json.dumps(record)))
    entries["__chainrule_module__.npy"] = buffer.getvalue()
    with zipfile.ZipFile(forged, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    with pytest.raises(ModelFileError, match=r"holds a Nowhere \(defined in some_package.models\), a class "
                                             r"this process has not defined: import the module"):
        Module.load(forged)


def test_load_of_another_class_or_architecture_names_the_problem(tmp_path):
    path = tmp_path / "mlp.npz"
    MLP(2, [3, 1], seed=0).save(path)
    with pytest.raises(ModelFileError, match=r"mlp.npz' holds a MLP, not a Layer"):
        Layer.load(path)
    with pytest.raises(ModelFileError, match=r"mlp.npz' does not fit this MLP: .*missing keys: "
                                             r"\['layers.0.neurons.3.w.0', .*'layers.1.neurons.0.w.3'\]"):
        MLP(2, [4, 1], seed=0).load(path)
    with pytest.raises(ModelFileError, match=r"unexpected keys: \['layers.0.neurons.2.w.0', "):
        MLP(2, [2, 1], seed=0).load(path)


def test_class_load_needs_a_recorded_config(tmp_path):
    class Plain(Module):
        def __init__(self):
            self.w = Value(1.0)

    path = tmp_path / "plain.npz"
    Plain().save(path)
    with pytest.raises(ModelFileError, match="Plain does not record its constructor arguments"):
        Plain.load(path)
    assert Plain().load(path).w.data == 1.0

    np.savez(tmp_path / "bare.npz", w=np.array(4.0))
    assert Plain().load(tmp_path / "bare.npz").w.data == 4.0
    with pytest.raises(ModelFileError, match="does not record which model it holds"):
        Plain.load(tmp_path / "bare.npz")


def test_truncated_file_names_the_path_and_the_problem(tmp_path):
    path = tmp_path / "model.npz"
    MLP(2, [4, 1], seed=0).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match=r"model.npz' is a truncated or corrupted .npz file"):
        MLP.load(path)


def test_foreign_files_name_the_path_and_the_problem(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a model")
    with pytest.raises(ModelFileError, match=r"notes.txt' is not a .npz model file: .*starts with b'not '"):
        MLP(2, [1]).load(text)
    single = tmp_path / "single.npy"
    np.save(single, np.zeros(3))
    with pytest.raises(ModelFileError, match=r"single.npy' is not a .npz model file"):
        MLP.load(single)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, w=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ModelFileError, match=r"pickled.npz' is a truncated or corrupted"):
        MLP(2, [1]).load(pickled)
    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ModelFileError, match=r"other.zip' is a truncated .*\['readme.txt'\] are not numpy arrays"):
        MLP(2, [1]).load(other_zip)
    with pytest.raises(FileNotFoundError, match=r"no model file at '.*missing.npz'"):
        MLP.load(tmp_path / "missing.npz")


def test_a_failed_save_names_the_path_and_leaves_nothing(tmp_path):
    path = tmp_path / "no_such_folder" / "model.npz"
    with pytest.raises(OSError, match="cannot save MLP to .*model.npz"):
        MLP(2, [1]).save(path)
    assert list(tmp_path.iterdir()) == []
