"""The backprop player in a real browser: headless Chromium driven by Selenium.

Needs Debian's ``chromium`` and ``chromium-driver`` packages (/usr/bin/chromium and
/usr/bin/chromedriver), which `make test` installs as root, and selenium (a test extra);
Selenium is pointed at both binaries explicitly, so it never tries to download a driver. Where
Chromium is missing the tests skip and say so, except under CI, where they fail; the player's
HTML itself is tested without a browser in test_viz_stepper.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autograd_core import Value, topological_order
from conftest import missing_system_tool
from viz import Stepper

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")

if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    missing_system_tool("headless Chromium is not installed (apt-get install chromium chromium-driver)")

from selenium import webdriver  # noqa: E402  (a test extra: pip install -e ".[test]")

from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage"]


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


def graph() -> Value:
    """L = tanh(a*b + c) * d: four steps, one of them reaching a node twice removed."""
    a, b, c, d = Value(0.5, "a"), Value(-1.5, "b"), Value(2.0, "c"), Value(3.0, "d")
    h = (a * b + c).tanh()
    h.label = "h"
    L = h * d
    L.label = "L"
    return L


@pytest.fixture(scope="module")
def player(tmp_path_factory):
    root = graph()
    stepper = Stepper(root)
    path = tmp_path_factory.mktemp("player") / "player.html"
    stepper.save(path)
    return path.as_uri(), stepper, topological_order(root)


def current_frame(browser):
    frames = [f for f in browser.find_elements(By.CSS_SELECTOR, ".frame") if f.is_displayed()]
    assert len(frames) == 1, "exactly one frame is visible at a time"
    return frames[0]


def active_record(frame) -> str:
    """The title (node id) of the highlighted record node of the frame (not its op)."""
    nodes = [g for g in frame.find_elements(By.CSS_SELECTOR, "g.node.active")
             if "op" not in g.get_attribute("class").split()]
    assert len(nodes) == 1
    return nodes[0].find_element(By.TAG_NAME, "title").get_attribute("textContent")


def text_of(frame) -> str:
    return frame.find_element(By.CSS_SELECTOR, ".step-text").get_attribute("textContent")


def click(browser, action: str, times: int = 1) -> None:
    button = browser.find_element(By.CSS_SELECTOR, f"button[data-action={action}]")
    for _ in range(times):
        button.click()


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_clicking_next_k_times_shows_step_k(browser, player, k):
    uri, stepper, order = player
    browser.get(uri)
    assert text_of(current_frame(browser)) == stepper.text(0)
    click(browser, "next", k)
    frame = current_frame(browser)
    assert frame.get_attribute("data-step") == str(k)
    assert text_of(frame) == str(stepper[k])
    assert active_record(frame) == f"n{order.index(stepper[k].node)}"
    assert browser.find_element(By.CSS_SELECTOR, ".counter").text == f"step {k} / {len(stepper)}"
    assert browser.find_element(By.CSS_SELECTOR, ".slider").get_attribute("value") == str(k)


def test_prev_slider_ends_and_keys(browser, player):
    uri, stepper, order = player
    browser.get(uri)
    click(browser, "next", 3)
    click(browser, "prev")
    assert current_frame(browser).get_attribute("data-step") == "2"
    click(browser, "prev", 5)  # stops at the forward pass
    assert current_frame(browser).get_attribute("data-step") == "0"
    click(browser, "last")
    assert current_frame(browser).get_attribute("data-step") == str(len(stepper))
    click(browser, "next")  # stays on the last step
    assert current_frame(browser).get_attribute("data-step") == str(len(stepper))
    slider = browser.find_element(By.CSS_SELECTOR, ".slider")
    browser.execute_script(
        "arguments[0].value = 2; arguments[0].dispatchEvent(new Event('input'));", slider)
    frame = current_frame(browser)
    assert frame.get_attribute("data-step") == "2"
    assert active_record(frame) == f"n{order.index(stepper[2].node)}"
    click(browser, "first")
    assert current_frame(browser).get_attribute("data-step") == "0"


def test_play_runs_to_the_last_step(browser, player):
    uri, stepper, _ = player
    browser.get(uri)
    # Milliseconds per step while playing (1200 by default): faster, to keep the test short.
    browser.execute_script(
        "document.querySelector('.chainrule-player').setAttribute('data-interval', '300');")
    click(browser, "play")
    # Read which frames are visible in one script call: the player's timer can switch
    # frames between two separate WebDriver calls.
    visible = "return Array.from(document.querySelectorAll('.frame')).filter(function (f) {" \
              " return getComputedStyle(f).display !== 'none'; }).map(function (f) {" \
              " return f.getAttribute('data-step'); });"
    seen = set()

    def reached_the_end(b) -> bool:
        steps = b.execute_script(visible)
        assert len(steps) == 1, "exactly one frame is visible at a time"
        seen.add(int(steps[0]))
        return steps == [str(len(stepper))]

    WebDriverWait(browser, 20, poll_frequency=0.05).until(reached_the_end)
    assert len(seen) > 1  # it went through the steps, not straight to the end
    assert "play" in browser.find_element(By.CSS_SELECTOR, "button[data-action=play]").text


def test_the_page_loads_nothing_and_logs_no_error(browser, player):
    uri, _, _ = player
    browser.get(uri)
    click(browser, "next")
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(function (e) { return e.name; });")
    assert resources == []
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
    assert os.path.getsize(uri.removeprefix("file://")) > 0
