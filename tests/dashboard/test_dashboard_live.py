"""``fit(dashboard=True)``: the live page in Chromium while a real training runs in another
process, and the live feed of a training in this process."""


import httpx
import numpy as np
import pytest
from dashboard_helpers import HERE, read_url, small_model, start, stop

import cnnlab
from cnnlab.data.catalog import load_dataset
from cnnlab.runs.store import RunStore


def points(browser) -> int:
    return int(browser.find_element("id", "loss-chart").get_attribute("data-points"))


def status(browser) -> str:
    return browser.find_element("id", "status").text


@pytest.mark.slow
def test_live_page_follows_a_training_in_chromium(browser, artifacts):
    from selenium.webdriver.support.ui import Select, WebDriverWait

    training = start([str(HERE / "live_training.py"), "6000", "8"])
    try:
        url = read_url(training)
        assert url.startswith("http://127.0.0.1:") and url.endswith("/runs/live-1")
        browser.get(url)
        wait = WebDriverWait(browser, 30, poll_frequency=0.1)
        wait.until(lambda b: points(b) > 0 and status(b) == "running")
        seen = points(browser)
        wait.until(lambda b: points(b) > seen + 20)
        assert status(browser) == "running", "the curve must grow while the model trains"
        browser.save_screenshot(str(artifacts / "live-training.png"))

        Select(browser.find_element("id", "layer-select")).select_by_visible_text("conv_b")
        wait.until(lambda b: "14×14×16" in b.find_element("id", "maps-shape").text
                   or "7×7×16" in b.find_element("id", "maps-shape").text
                   or "4×4×16" in b.find_element("id", "maps-shape").text)
        maps = browser.find_elements("css selector", "#maps canvas")
        assert len(maps) == 16 and all(m.size["width"] > 0 for m in maps)
        assert len(browser.find_elements("css selector", "#filters canvas")) == 16
        browser.find_elements("css selector", "#sample-grid .sample")[3].click()
        wait.until(lambda b: "image #3" in b.find_element("id", "maps-shape").text)
        wait.until(lambda b: "image #3" in b.find_element("id", "cam-caption").text)
        browser.save_screenshot(str(artifacts / "live-feature-maps.png"))

        wait.until(lambda b: status(b) == "finished")
        wait.until(lambda b: len(b.find_elements("css selector", "#epoch-table tbody tr")) == 8)
        assert points(browser) >= 8 * 169  # every batch of 5,400 images in batches of 32 ...
        assert len(browser.find_elements("css selector", "#confusion-matrix td")) == 100
        training.stdin.close()  # the training process ends; the page keeps its data
        training.wait(timeout=30)
        wait.until(lambda b: "disconnected" in b.find_element("id", "connection").text)
        assert points(browser) >= 8 * 169
        browser.save_screenshot(str(artifacts / "live-after-exit.png"))
    finally:
        stop(training)


def test_fit_with_dashboard_feeds_every_batch_and_leaves_training_alone(tmp_path, monkeypatch,
                                                                         capsys):
    monkeypatch.setenv("CNNLAB_HOME", str(tmp_path))
    data = load_dataset("digits")
    x, y = data.x_train[:640], data.y_train[:640]
    histories = []
    for dashboard in (False, True):
        cnnlab.set_random_seed(0)
        model = small_model(data.input_shape)
        history = model.fit(x, y, batch_size=64, epochs=2, validation_split=0.25, seed=1,
                            verbose=0, dashboard=dashboard)
        histories.append(history.history)
    assert histories[0] == histories[1]  # same numbers with the dashboard watching
    url = capsys.readouterr().out.split("dashboard: ")[1].split()[0]
    run = httpx.get(url.replace("/runs/", "/api/runs/")).json()
    assert run["status"] == "finished" and run["live"]
    assert run["batch_count"] == 2 * 8 and len(run["batches"]) == 16
    assert [p[3] for p in run["batches"][:8]] == list(range(8))
    assert np.allclose([r["val_loss"] for r in run["epoch_rows"]], histories[1]["val_loss"])
    assert run["epoch_rows"][0]["lr"] == pytest.approx(0.001)
    samples = httpx.get(url.replace("/runs/", "/api/runs/") + "/samples").json()
    assert samples["what"] == "validation images" and samples["labels"] == y[480:492].tolist()
    replica_probs = np.asarray(samples["probabilities"])
    assert np.allclose(replica_probs, model.predict(x[480:492], verbose=0), atol=1e-3)


def test_fit_with_run_and_dashboard_uses_the_run_id(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CNNLAB_HOME", str(tmp_path))
    data = load_dataset("digits")
    model = small_model(data.input_shape)
    model.fit(data.x_train[:128], data.y_train[:128], epochs=1, verbose=0, run="watched",
              dashboard=True)
    url = capsys.readouterr().out.split("dashboard: ")[1].split()[0]
    assert url.endswith(f"/runs/{model.run_id}")
    assert RunStore().get(model.run_id).status == "finished"
    page = httpx.get(url)
    assert page.status_code == 200 and "watched" in page.text


def test_weights_are_copied_between_steps_on_request():
    from cnnlab.dashboard.feed import LiveCallback, LiveFeed

    data = load_dataset("digits")
    model = small_model(data.input_shape)
    feed = LiveFeed(id="t", model=model)
    copies = []

    class Ask(cnnlab.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if batch == 3:  # as the server thread does: ask, the next batch end answers
                feed._wanted.set()

        def on_train_batch_end(self, batch, logs=None):
            if batch == 3:
                copies.append(feed.snapshot.version)

    model.fit(data.x_train[:320], data.y_train[:320], batch_size=32, epochs=1, verbose=0,
              callbacks=[LiveCallback(feed), Ask()])
    assert copies == [4]  # taken at the end of batch 3, after 4 steps
    final = feed.weights(timeout=0.1)
    assert final.version == 10 and feed.status == "finished"
    for name, tensor in model.state_dict().items():
        assert np.array_equal(final.state[name].numpy(), tensor.numpy())
