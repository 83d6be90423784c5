"""Training replay: what fit/fit_scalar(record=...) keep (only what is asked, within a byte budget),
viz.training_player's page (structure without a browser, then the real thing in headless Chromium),
and the recorded graph of one scalar sample checked against its own backward pass."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from nn import MLP, SGD, Adam, Recorder, TensorMLP, fit, fit_scalar, functional as F
from nn.data import make_moons
from nn.recording import histogram
from viz.graph import format_quantity
from viz.training_player import training_player

X, Y = make_moons(30, noise=0.1, seed=1)
SIGNS = (2.0 * Y - 1.0).tolist()


def page_data(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    match = re.search(r'<script type="application/json" class="cr-data">(.*?)</script>', text, re.S)
    return json.loads(match.group(1).replace("<\\/", "</"))


def test_a_tensor_run_records_what_was_asked_and_the_page_holds_it(tmp_path):
    model = TensorMLP([2, 5, 2], seed=0)
    history = fit(model, F.cross_entropy, Adam(model.parameters(), lr=0.05), (X, Y), epochs=7, batch_size=10,
                  progress=False, record=Recorder(what=("boundary", "weights", "grads"), every=3, resolution=12))
    recorder = history.recording
    assert [frame["epoch"] for frame in recorder.frames] == [0, 3, 6, 7]
    first, last = recorder.frames[0], recorder.frames[-1]
    assert first["grads"] is None and len(last["grads"]) == 2
    assert len(last["boundary"]) == 12 * 12 and set(last["boundary"]) <= {"0", "1"}
    # weights histograms: every weight counted once, between the layer's min and max
    assert sum(last["weights"][0][2]) == 10 and last["weights"][0][:2] == histogram(model[0].weight.data, 24)[:2]
    assert "graph" not in last
    path = training_player(history, tmp_path / "run.html")
    text = path.read_text(encoding="utf-8")
    assert "default-src 'none'" in text and "<svg" not in text  # offline; no graph recorded
    data = page_data(path)
    assert data["loss"] == history.loss and data["metrics"] == {"accuracy": history.accuracy}
    assert data["recording"]["layers"] == ["layers.0", "layers.2"] and len(data["recording"]["frames"]) == 4
    assert len(data["recording"]["points"]) == 30 and data["recording"]["grid"]["n"] == 12


def test_record_only_items_that_apply_and_say_why():
    model = TensorMLP([2, 3, 2], seed=0)
    optimizer = SGD(model.parameters(), lr=0.1)
    history = fit(model, F.cross_entropy, optimizer, (X, Y), epochs=1, progress=False, record=True)
    assert history.recording.what == ("boundary", "weights", "grads")
    with pytest.raises(ValueError, match="record='graph' draws the graph of one sample through a scalar"):
        fit(model, F.cross_entropy, optimizer, (X, Y), epochs=1, progress=False, record="graph")
    four_d = np.hstack([X, X])
    model4 = TensorMLP([4, 3, 2], seed=0)
    with pytest.raises(ValueError, match=r"needs 2-D inputs, shape \(n, 2\); the training inputs have shape \(30, 4\)"):
        fit(model4, F.cross_entropy, SGD(model4.parameters(), lr=0.1), (four_d, Y), epochs=1, progress=False,
            record=("boundary",))
    with pytest.raises(ValueError, match="unknown item"):
        Recorder(what=("boundaries",))
    with pytest.raises(TypeError, match="record must be True"):
        fit(model, F.cross_entropy, optimizer, (X, Y), epochs=1, progress=False, record=3)


def test_the_budget_refuses_before_training_with_advice(tmp_path):
    model = TensorMLP([2, 3, 2], seed=0)
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(ValueError, match=r"over the budget of 2,000\. Record every \d+ epochs \(Recorder\(every="):
        fit(model, F.cross_entropy, SGD(model.parameters(), lr=0.1), (X, Y), epochs=50, progress=False,
            record=Recorder(budget=2000))
    assert all(np.array_equal(p.data, b) for p, b in zip(model.parameters(), before))  # nothing trained
    history = fit(model, F.cross_entropy, SGD(model.parameters(), lr=0.1), (X, Y), epochs=2, progress=False,
                  record=("weights",))
    target = tmp_path / "small.html"
    with pytest.raises(ValueError, match=r"the page would take [\d,]+ bytes, over the budget of 1,000"):
        training_player(history, target, budget=1000)
    assert not target.exists()
    no_recording = fit(model, F.cross_entropy, SGD(model.parameters(), lr=0.1), (X, Y), epochs=1, progress=False)
    with pytest.raises(ValueError, match="needs a history with a recording"):
        training_player(no_recording, tmp_path / "x.html")
    with pytest.raises(ValueError, match="must end in .html"):
        training_player(history, tmp_path / "x.txt")


def scalar_run(epochs: int = 4, point: int = 2):
    model = MLP(2, [3, 1], activation="tanh", seed=0)
    history = fit_scalar(model, X.tolist(), SIGNS, F.hinge, SGD(model.parameters(), lr=0.1), epochs,
                         record=Recorder(point=point, resolution=10))
    return model, history


def test_the_scalar_graph_frames_are_the_sample_s_own_values_and_gradients():
    model, history = scalar_run()
    recorder = history.recording
    assert recorder.what == ("boundary", "weights", "grads", "graph")
    data, grads = recorder.frames[-1]["graph"]
    # The last frame is the trained model: rebuild sample 2's loss and backpropagate it alone.
    grads_after_training = [p.grad for p in model.parameters()]
    model.zero_grad()
    loss = F.hinge(model(X[2].tolist()), SIGNS[2])
    loss.backward()
    assert data[-1] == format_quantity(loss.data) and grads[-1] == "1"
    from autograd_core import topological_order

    order = topological_order(loss)
    assert len(order) == len(data)
    assert [format_quantity(n.data) for n in order] == data
    assert [format_quantity(n.grad) for n in order] == grads
    # The recording did not touch the parameters' own gradients (backward with accumulate=False):
    # the same run without recording leaves the very same gradients and weights.
    plain = MLP(2, [3, 1], activation="tanh", seed=0)
    fit_scalar(plain, X.tolist(), SIGNS, F.hinge, SGD(plain.parameters(), lr=0.1), 4)
    assert [p.grad for p in plain.parameters()] == grads_after_training


def test_the_scalar_page_draws_the_graph_once_with_node_ids(tmp_path):
    _, history = scalar_run()
    path = training_player(history, tmp_path / "scalar.html")
    text = path.read_text(encoding="utf-8")
    ids = set(re.findall(r'<g class="node[^"]*" data-n="(n\d+)"', text))
    n_nodes = len(history.recording.frames[0]["graph"][0])
    assert ids and all(int(i[1:]) < n_nodes for i in ids)
    assert text.count("<svg") == 1 and "colour by |grad|" in text


# -- in a real browser --------------------------------------------------------------------------------

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        from conftest import missing_system_tool

        missing_system_tool("headless Chromium is not installed (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


def test_scrubbing_the_epochs_in_chromium(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    _, history = scalar_run(epochs=3)
    frames = history.recording.frames
    path = training_player(history, tmp_path / "play.html")
    browser.get(path.as_uri())
    root = WebDriverWait(browser, 10).until(lambda d: d.find_element(By.CSS_SELECTOR, "div.cr-train[data-ready]"))
    assert root.get_attribute("data-epoch") == "3"
    status = browser.find_element(By.CSS_SELECTOR, ".cr-status")
    assert status.text.startswith(f"loss {history.loss[-1]:.4g}"[:9])
    root.send_keys(Keys.HOME)
    assert root.get_attribute("data-epoch") == "0" and status.text == "before training"
    root.send_keys(Keys.ARROW_RIGHT)
    assert root.get_attribute("data-epoch") == "1"
    last = len(frames[1]["graph"][0]) - 1  # the sample's loss, the graph's root
    texts = browser.execute_script(
        "return Array.prototype.map.call(document.querySelectorAll('g.node[data-n=n%d] text'),"
        " function (t) { return t.textContent.replace(/\\u00a0/g, ' '); });" % last)
    assert f"data {frames[1]['graph'][0][last]}" in texts and "grad 1" in texts
    fills = browser.execute_script(
        "return Array.prototype.map.call(document.querySelectorAll('g.node[data-n] > polygon, g.node[data-n] > path'),"
        " function (p) { return p.getAttribute('fill'); });")
    assert any(f and f.startswith("rgb(255,") for f in fills)  # coloured by |grad|
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
