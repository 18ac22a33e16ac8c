"""``cnnlab serve`` as a real server: the compare view in Chromium, events while another process
writes the store, a taken port, the access token off loopback."""

import functools
import json
import shutil
import subprocess
import sys
import time

import httpx
import pytest
from dashboard_helpers import EVIL, read_url, start, stop
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.support.ui import WebDriverWait

from cnnlab.dashboard.app import create_app
from cnnlab.dashboard.server import DashboardServer, PortInUse, bind, url_of
from cnnlab.dashboard.sources import StoreSource


@functools.cache
def serve_command() -> list[str]:
    """``cnnlab serve`` once it is wired into the CLI, else ``python -m cnnlab.dashboard serve``."""
    wired = subprocess.run([sys.executable, "-m", "cnnlab", "serve", "--help"],
                           capture_output=True, text=True)
    return ["-m", "cnnlab", "serve"] if wired.returncode == 0 else \
        ["-m", "cnnlab.dashboard", "serve"]


@pytest.fixture
def served(store_home):
    process = start([*serve_command(), "--store", str(store_home[0]), "--port", "0"])
    try:
        yield read_url(process), process
    finally:
        stop(process)


def test_cnnlab_serve_compares_three_runs_in_chromium(served, store_home, browser, artifacts):
    url, _ = served
    ids = store_home[1]
    browser.get(url)
    wait = WebDriverWait(browser, 20)
    wait.until(lambda b: "watching" in b.find_element("id", "connection").text)
    rows = browser.find_elements("css selector", "#run-table tbody tr")
    assert len(rows) == 3
    for box in browser.find_elements("css selector", "input.pick"):
        box.click()
    browser.find_element("id", "compare-button").click()
    wait.until(lambda b: "/compare" in b.current_url)
    chart = browser.find_element("id", "val-accuracy-chart")
    wait.until(lambda b: int(chart.get_attribute("data-points")) == 2 + 3 + 2)
    legends = [t.text for t in chart.find_elements("css selector", "text.legend")]
    assert sorted(legends) == sorted(["adam-a", "adam-b", EVIL])  # as text, not markup
    for chart_id in ("val-loss-chart", "train-loss-chart"):
        assert int(browser.find_element("id", chart_id).get_attribute("data-points")) == 7
    browser.save_screenshot(str(artifacts / "compare.png"))
    # the run with HTML in its names: shown as text, nothing runs
    browser.get(f"{url}runs/{ids[2]}")
    wait.until(lambda b: b.find_elements("css selector", "#maps canvas"))
    option = browser.find_element("css selector", "#layer-select option")
    assert option.text == EVIL
    assert browser.find_element("css selector", "h1").text.startswith(EVIL)
    names = [n.text for n in browser.find_elements("css selector", "#sample-grid .name")]
    assert "<img src=x onerror=alert(2)>" in names
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018
    browser.save_screenshot(str(artifacts / "escaped-run.png"))


def test_events_follow_a_store_written_by_another_process(store_home, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(store_home[0], home)
    source = StoreSource(home)
    run_id = source.runs()[0]["id"]
    server = DashboardServer(create_app(source), bind("127.0.0.1", 0))
    server.start()
    try:
        url = f"{server.url}api/runs/{run_id}/events"
        with httpx.stream("GET", url, params={"epochs": 0}, timeout=20) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            events = sse(response.iter_lines())
            first = next(events)
            epochs = len(first["epoch_rows"])
            assert epochs >= 2 and first["cursor"] == [epochs, 0]
            writer = (f"from cnnlab.runs.store import RunStore; s = RunStore({str(source.db)!r});"
                      f"s.log_epoch({run_id!r}, {epochs}, {{'loss': 0.25, 'accuracy': 0.9,"
                      f"'val_loss': 0.3, 'val_accuracy': 0.875}}, 1.0)")
            subprocess.run([sys.executable, "-c", writer], check=True)
            update = next(events)
            assert [r["epoch"] for r in update["epoch_rows"]] == [epochs + 1]
            assert update["epoch_rows"][0]["val_accuracy"] == 0.875
            assert update["summary"]["best_val_accuracy"] >= 0.875
    finally:
        server.stop()


def sse(lines):
    """The JSON data of each ``update`` event of a server-sent event stream."""
    event = None
    for line in lines:
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and event == "update":
            yield json.loads(line.split(":", 1)[1])


def test_taken_port_is_a_clear_error(store_home):
    taken = bind("127.0.0.1", 0)
    port = taken.getsockname()[1]
    try:
        with pytest.raises(PortInUse, match=f"port {port} on 127.0.0.1 is already in use.*--port"):
            bind("127.0.0.1", port)
        process = start([*serve_command(), "--store", str(store_home[0]), "--port", str(port)])
        _, err = process.communicate(timeout=60)
        assert process.returncode == 1
        assert f"cnnlab: error: port {port} on 127.0.0.1 is already in use" in err
    finally:
        taken.close()


def test_missing_store_is_a_clear_error(tmp_path):
    process = start([*serve_command(), "--store", str(tmp_path), "--port", "0"])
    _, err = process.communicate(timeout=60)
    assert process.returncode == 1 and "no run store in" in err and "cnnlab.db" in err


def test_other_host_needs_token_and_warns(store_home):
    process = start([*serve_command(), "--store", str(store_home[0]), "--host", "0.0.0.0",
                     "--port", "0"])
    try:
        url = read_url(process)
        assert "?token=" in url
        port = url.split(":")[2].split("/")[0]
        token = url.split("?token=")[1]
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/api/runs").status_code == 401
        assert httpx.get(f"{base}/static/dashboard.js").status_code == 401
        answer = httpx.get(f"{base}/api/runs", params={"token": token})
        assert answer.status_code == 200 and len(answer.json()["runs"]) == 3
        assert httpx.post(f"{base}/api/runs", params={"token": token}).status_code == 405
    finally:
        stop(process)
        warning = process.stderr.read()
    assert "warning: serving on 0.0.0.0" in warning and "token" in warning


def test_url_of_brackets_ipv6():
    try:
        sock = bind("::1", 0)
    except (RuntimeError, ValueError):
        pytest.skip("no IPv6 loopback here")
    try:
        url = url_of(sock, "t")
        assert url.startswith("http://[::1]:") and url.endswith("/?token=t")
    finally:
        sock.close()


def test_serve_command_is_quick_to_answer(served):
    url, _ = served
    started = time.perf_counter()
    assert httpx.get(f"{url}api/runs").status_code == 200
    assert time.perf_counter() - started < 5
