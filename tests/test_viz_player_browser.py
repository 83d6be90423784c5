"""The backprop player in a real browser: headless Chromium driven by Selenium.

Needs Debian's ``chromium`` and ``chromium-driver`` packages (/usr/bin/chromium and
/usr/bin/chromedriver), which `make test` installs as root, and selenium (a test extra);
Selenium is pointed at both binaries explicitly, so it never tries to download a driver. Where
Chromium is missing the tests skip and say so, except under CI, where they fail; the player's
HTML itself is tested without a browser in test_viz_stepper.py.

The expected gradients are computed by hand here (see `hand_grads`), not read from the player.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from autograd_core import Value, topological_order
from conftest import missing_system_tool
from viz import Stepper
from viz.stepper import html_page

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")

if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    missing_system_tool("headless Chromium is not installed (apt-get install chromium chromium-driver)")

from selenium import webdriver  # noqa: E402  (a test extra: pip install -e ".[test]")

from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage",
         "--window-size=1280,900"]
MB = 1000 ** 2


@pytest.fixture(scope="module")
def browser():
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


A, B, C, D = 0.5, -1.5, 2.0, 3.0


def graph() -> Value:
    """L = tanh(a*b + c) * d: four steps, one of them reaching a node twice removed."""
    a, b, c, d = Value(A, "a"), Value(B, "b"), Value(C, "c"), Value(D, "d")
    h = (a * b + c).tanh()
    h.label = "h"
    L = h * d
    L.label = "L"
    return L


def hand_grads() -> list[dict[str, str]]:
    """The grad line of each named node after steps 0..4, by hand:
    step 1 at L = h*d:      dL/dh = d,            dL/dd = h
    step 2 at h = tanh(s):  dL/ds = d (1 - h^2)   (s = a*b + c)
    step 3 at s = p + c:    dL/dp = dL/dc = dL/ds (p = a*b)
    step 4 at p = a*b:      dL/da = dL/ds * b,    dL/db = dL/ds * a
    """
    h = math.tanh(A * B + C)
    ds = D * (1 - h * h)
    g = {"L": 1.0, "h": D, "d": h, "c": ds, "a": ds * B, "b": ds * A}
    arrive = {"L": 1, "h": 1, "d": 1, "c": 3, "a": 4, "b": 4}
    return [{name: f"grad {g[name]:.4g}" if k >= arrive[name] else "grad ?" for name in g}
            for k in range(5)]


@pytest.fixture(scope="module")
def player(tmp_path_factory):
    root = graph()
    stepper = Stepper(root)
    path = tmp_path_factory.mktemp("player") / "player.html"
    stepper.save(path)
    order = topological_order(root)
    ids = {node.label: f"n{order.index(node)}" for node in order if node.label}
    return path.as_uri(), stepper, order, ids


def step_shown(browser) -> int:
    return int(browser.find_element(By.CSS_SELECTOR, ".chainrule-player").get_attribute("data-step"))


def active_record(browser) -> str:
    """The data-n (node id) of the highlighted record node (not its op)."""
    nodes = [g for g in browser.find_elements(By.CSS_SELECTOR, "g.node.active")
             if "op" not in g.get_attribute("class").split()]
    assert len(nodes) == 1
    return nodes[0].get_attribute("data-n")


def active_edges(browser) -> set[tuple[str, str]]:
    return {(e.get_attribute("data-t"), e.get_attribute("data-h"))
            for e in browser.find_elements(By.CSS_SELECTOR, "g.edge.active")}


def grad_lines(browser, ids: dict[str, str]) -> dict[str, str]:
    """The grad line (last text) of each named node's record, as drawn now."""
    texts = browser.execute_script(
        "var out = {}; document.querySelectorAll('.chainrule-player g.node[data-n]').forEach("
        "function (g) { var t = g.querySelectorAll('text'); out[g.getAttribute('data-n')] ="
        " t.length ? t[t.length - 1].textContent : null; }); return out;")
    return {name: texts[node_id].strip() for name, node_id in ids.items()}


def click(browser, action: str, times: int = 1) -> None:
    button = browser.find_element(By.CSS_SELECTOR, f"button[data-action={action}]")
    for _ in range(times):
        button.click()


def press(browser, *keys: str) -> None:
    root = browser.find_element(By.CSS_SELECTOR, ".chainrule-player")
    browser.execute_script("arguments[0].focus();", root)
    for key in keys:
        root.send_keys(key)


@pytest.mark.parametrize("k", [0, 1, 2, 3, 4])
def test_clicking_next_k_times_shows_step_k(browser, player, k):
    uri, stepper, order, ids = player
    browser.get(uri)
    click(browser, "next", k)
    assert step_shown(browser) == k
    header = browser.find_element(By.CSS_SELECTOR, ".cr-header").text
    assert header == (stepper.text(0) if k == 0 else stepper[k].header())
    if k:
        assert active_record(browser) == f"n{order.index(stepper[k].node)}"
        # The edges lit are those the step's gradient runs along: op -> node, parents -> op.
        node = f"n{order.index(stepper[k].node)}"
        parents = {f"n{order.index(p.parent)}" for p in stepper[k].parents}
        assert active_edges(browser) == {(f"{node}_op", node)} | {(p, f"{node}_op") for p in parents}
        # The step's formulas are typeset: MathML with a real size, holding the step's numbers.
        maths = browser.find_elements(By.CSS_SELECTOR, ".cr-math math")
        assert len(maths) == len(stepper[k].lines())
        assert all(m.size["height"] > 10 and m.size["width"] > 50 for m in maths)
    assert grad_lines(browser, ids) == hand_grads()[k]
    assert browser.find_element(By.CSS_SELECTOR, ".cr-counter").text == f"step {k} / {len(stepper)}"
    assert browser.find_element(By.CSS_SELECTOR, ".cr-slider").get_attribute("value") == str(k)


def test_formula_numbers_are_the_hand_values(browser, player):
    uri, _, _, _ = player
    browser.get(uri)
    click(browser, "next", 2)  # the tanh step: dL/ds = dL/dh * (1 - h^2) = 3 * (1 - h^2)
    h = math.tanh(A * B + C)
    text = browser.find_element(By.CSS_SELECTOR, ".cr-math").get_attribute("textContent")
    assert f"{D:.4g}·{1 - h * h:.4g}={D * (1 - h * h):.4g}" in text.replace("\u2212", "-")


def test_prev_slider_ends_and_list(browser, player):
    uri, stepper, order, ids = player
    browser.get(uri)
    click(browser, "next", 3)
    click(browser, "prev")
    assert step_shown(browser) == 2
    click(browser, "prev", 5)  # stops at the forward pass
    assert step_shown(browser) == 0
    click(browser, "last")
    assert step_shown(browser) == len(stepper)
    assert grad_lines(browser, ids) == hand_grads()[4]
    click(browser, "next")  # stays on the last step
    assert step_shown(browser) == len(stepper)
    slider = browser.find_element(By.CSS_SELECTOR, ".cr-slider")
    browser.execute_script(
        "arguments[0].value = 2; arguments[0].dispatchEvent(new Event('input'));", slider)
    assert step_shown(browser) == 2
    assert active_record(browser) == f"n{order.index(stepper[2].node)}"
    assert grad_lines(browser, ids) == hand_grads()[2]  # going back restores the grads
    click(browser, "first")
    assert step_shown(browser) == 0
    # The list of steps: one entry per step, the current one marked; a click jumps.
    entries = browser.find_elements(By.CSS_SELECTOR, ".cr-list li")
    assert [e.text for e in entries] == ["0. forward pass"] + [
        f"{k}. {stepper[k].name} [{stepper[k].node.op}]" for k in range(1, 5)]
    entries[3].click()
    assert step_shown(browser) == 3
    assert browser.find_element(By.CSS_SELECTOR, ".cr-list li.cr-current").text.startswith("3. ")
    assert grad_lines(browser, ids) == hand_grads()[3]


def test_keyboard(browser, player):
    uri, stepper, _, ids = player
    browser.get(uri)
    press(browser, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
    assert step_shown(browser) == 3
    press(browser, Keys.ARROW_LEFT)
    assert step_shown(browser) == 2
    press(browser, Keys.END)
    assert step_shown(browser) == len(stepper)
    assert grad_lines(browser, ids) == hand_grads()[4]
    press(browser, Keys.HOME)
    assert step_shown(browser) == 0
    assert grad_lines(browser, ids) == hand_grads()[0]
    # Space plays and pauses; with a button focused it does not also press the button.
    browser.execute_script("document.querySelector('.chainrule-player').setAttribute('data-interval', '60000');")
    next_button = browser.find_element(By.CSS_SELECTOR, "button[data-action=next]")
    browser.execute_script("arguments[0].focus();", next_button)
    next_button.send_keys(Keys.SPACE)
    play = browser.find_element(By.CSS_SELECTOR, "button[data-action=play]")
    assert "pause" in play.text and step_shown(browser) == 0
    next_button.send_keys(Keys.SPACE)
    assert "play" in play.text and step_shown(browser) == 0
    # Arrow keys on the focused slider move it once.
    slider = browser.find_element(By.CSS_SELECTOR, ".cr-slider")
    slider.send_keys(Keys.ARROW_RIGHT)
    assert step_shown(browser) == 1


def test_play_runs_to_the_last_step(browser, player):
    uri, stepper, _, _ = player
    browser.get(uri)
    # Milliseconds per step while playing (1200 by default): faster, to keep the test short.
    browser.execute_script(
        "document.querySelector('.chainrule-player').setAttribute('data-interval', '300');")
    click(browser, "play")
    seen = set()

    def reached_the_end(b) -> bool:
        seen.add(step_shown(b))
        return step_shown(b) == len(stepper)

    WebDriverWait(browser, 20, poll_frequency=0.05).until(reached_the_end)
    assert len(seen) > 1  # it went through the steps, not straight to the end
    assert "play" in browser.find_element(By.CSS_SELECTOR, "button[data-action=play]").text


def test_the_page_loads_nothing_and_logs_no_error(browser, player):
    uri, _, _, _ = player
    browser.get(uri)
    click(browser, "next")
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(function (e) { return e.name; });")
    assert resources == []
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
    assert os.path.getsize(uri.removeprefix("file://")) > 0
    # The graph does not move when the step text changes: the text area has a fixed height.
    top = browser.find_element(By.CSS_SELECTOR, ".cr-graph").location["y"]
    click(browser, "last")
    assert browser.find_element(By.CSS_SELECTOR, ".cr-graph").location["y"] == top


def test_two_players_on_one_page_do_not_clash(browser, tmp_path):
    """As in a notebook: two Jupyter fragments in one page, each stepping on its own."""
    first, second = Stepper(graph()), Stepper(graph() * 2.0)
    page = tmp_path / "two.html"
    page.write_text(html_page(first._repr_html_() + second._repr_html_()), encoding="utf-8")
    browser.get(page.as_uri())
    players = browser.find_elements(By.CSS_SELECTOR, ".chainrule-player")
    assert len(players) == 2 and players[0].get_attribute("id") != players[1].get_attribute("id")
    players[1].find_element(By.CSS_SELECTOR, "button[data-action=last]").click()
    steps = [int(p.get_attribute("data-step")) for p in players]
    assert steps == [0, len(second)]
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []


def test_a_2000_step_chain_is_small_and_responsive(browser, tmp_path):
    """Issue 9's budget: a 2,000-step chain in at most 6 MB, and End / Home well under a second."""
    y = Value(0.5, "x")
    x = y
    for _ in range(1000):  # y = y * 1.001 + 0.001: a * and a + step per link
        y = y * 1.001 + 0.001
    y.label = "y"
    stepper = Stepper(y)
    assert len(stepper) == 2000
    path = stepper.save(tmp_path / "chain.html")
    assert path.stat().st_size <= 6 * MB
    browser.get(path.as_uri())
    WebDriverWait(browser, 30).until(lambda b: b.execute_script(
        "return document.querySelector('.chainrule-player').hasAttribute('data-ready');"))
    timing = browser.execute_script("""
        var root = document.querySelector('.chainrule-player');
        function key(name) {
          var start = performance.now();
          root.dispatchEvent(new KeyboardEvent('keydown', {key: name, bubbles: true}));
          document.body.getBoundingClientRect();  // finish the style and layout work
          return performance.now() - start;
        }
        return {end: key('End'), step: root.getAttribute('data-step'), home: key('Home')};""")
    assert timing["step"] == "2000"
    print(f"2,000-step chain: {path.stat().st_size / MB:.2f} MB, End {timing['end']:.0f} ms, Home {timing['home']:.0f} ms")
    assert timing["end"] < 500 and timing["home"] < 500, timing
    # dy/dx = 1.001^1000 by hand; x's grad line after the last step says so.
    press(browser, Keys.END)
    order = topological_order(y)
    lines = grad_lines(browser, {"x": f"n{order.index(x)}"})
    assert lines["x"] == f"grad {1.001 ** 1000:.4g}"


def test_a_player_whose_script_runs_before_it_is_on_the_page(browser, tmp_path):
    """JupyterLab and the classic notebook run an output's scripts while the output is not yet
    attached to the page; the player must still come to life once it is."""
    fragment = json.dumps(Stepper(graph())._repr_html_()).replace("</", "<\\/")
    loader = """<div id="out"></div><script>
      var host = document.createElement('div');
      host.innerHTML = FRAGMENT;
      host.querySelectorAll('script:not([type])').forEach(function (old) {
        // As jQuery's append (the classic notebook) does: the code runs now, in the page's
        // head, while the output is not on the page yet.
        var script = document.createElement('script');
        script.textContent = old.textContent;
        document.head.appendChild(script).parentNode.removeChild(script);
      });
      setTimeout(function () { document.getElementById('out').appendChild(host); }, 600);
    </script>""".replace("FRAGMENT", fragment)
    page = tmp_path / "late.html"
    page.write_text(html_page(loader), encoding="utf-8")
    browser.get(page.as_uri())
    WebDriverWait(browser, 5).until(lambda b: b.execute_script(
        "var p = document.querySelector('#out .chainrule-player');"
        " return p !== null && p.hasAttribute('data-ready');"))
    click(browser, "next", 2)
    assert step_shown(browser) == 2


def _bundle_page(tmp_path, name: str, html: str) -> str:
    page = tmp_path / name
    page.write_text(html_page(html), encoding="utf-8")
    return page.as_uri()


def test_where_scripts_cannot_run_the_picture_shows_and_no_buttons(browser, tmp_path):
    """An untrusted notebook sanitizes the player's HTML: no scripts, no inline SVG. What is left
    must be the note and the picture of the finished pass, not a pile of dead buttons."""
    import re

    bundle = Stepper(graph())._repr_mimebundle_()
    sanitized = re.sub(r"<script.*?</script>|<svg.*?</svg>", "", bundle["text/html"], flags=re.S)
    browser.get(_bundle_page(tmp_path, "untrusted.html", sanitized))
    assert browser.find_elements(By.CSS_SELECTOR, "button") == []
    picture = browser.find_element(By.CSS_SELECTOR, "img.cr-picture")
    assert picture.is_displayed()
    assert browser.execute_script("return arguments[0].naturalWidth;", picture) > 100
    assert "trust the notebook" in browser.find_element(By.CSS_SELECTOR, ".cr-noscript").text
    assert not browser.find_element(By.CSS_SELECTOR, ".cr-step").is_displayed()
    # Trusted, the same bundle's HTML is the player, and the picture gives way to it.
    browser.get(_bundle_page(tmp_path, "trusted.html", bundle["text/html"]))
    WebDriverWait(browser, 5).until(lambda b: b.execute_script(
        "return document.querySelector('.chainrule-player').hasAttribute('data-ready');"))
    assert not browser.find_element(By.CSS_SELECTOR, "img.cr-picture").is_displayed()
    assert browser.find_element(By.CSS_SELECTOR, ".cr-graph svg").is_displayed()
    assert len(browser.find_elements(By.CSS_SELECTOR, ".cr-controls button")) == 6
    slider = browser.find_element(By.CSS_SELECTOR, ".cr-slider")
    assert slider.get_attribute("max") == "4"  # the script sets it from the steps: 4, by hand
    click(browser, "last")
    assert browser.find_element(By.CSS_SELECTOR, ".cr-counter").text == "step 4 / 4"
