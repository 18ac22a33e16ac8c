"""The HTML report renders every section with its images in headless Chromium."""

import re
import shutil
import subprocess

import numpy as np
import pytest

import cnnlab
from cnnlab.data.catalog import Dataset
from cnnlab.layers import Conv2D, Dense, Flatten, MaxPooling2D
from cnnlab.runs.report import write_report

SECTIONS = ["config", "summary", "curves", "scores", "confusion", "misclassified", "inside",
            "gradcam"]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    mp = pytest.MonkeyPatch()
    mp.setenv("CNNLAB_HOME", str(home))
    rng = np.random.default_rng(0)
    x = rng.random((120, 12, 12, 1), dtype=np.float32)
    y = (x[:, :6].mean(axis=(1, 2, 3)) > x[:, 6:].mean(axis=(1, 2, 3))).astype(np.int64)
    data = Dataset("toy", x[:90], y[:90], x[90:], y[90:], ["top", "bottom"])
    model = cnnlab.Sequential([Conv2D(4, 3, activation="relu", input_shape=(12, 12, 1)),
                               MaxPooling2D(2), Conv2D(4, 3, activation="relu"), Flatten(),
                               Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(data.x_train, data.y_train, epochs=3, validation_split=0.2, verbose=0, run="toy")
    path = write_report(model.run_id, model, data)
    yield path
    mp.undo()


def test_report_is_self_contained_html(report):
    text = report.read_text()
    assert text.startswith("<!DOCTYPE html>")
    for section in SECTIONS:
        assert f'<section id="{section}">' in text
    assert "src=\"data:image/png;base64," in text and "http" not in text.split("<body>")[1]
    assert "(12 + 2·0 − 3)/1 + 1 = 10" in text


def test_report_names_the_classes_under_grad_cam(report):
    gradcam = report.read_text().split('<section id="gradcam">')[1].split("</section>")[0]
    pairs = re.findall(r"(\d): (top|bottom|\d) → (top|bottom|\d)", gradcam)
    assert [int(i) for i, _, _ in pairs] == [1, 2, 3, 4]
    assert all(true in ("top", "bottom") and pred in ("top", "bottom") for _, true, pred in pairs)


def chromium_driver(profile):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not binary or not driver:
        pytest.skip("Debian's chromium and chromium-driver are not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver), options=options)


def test_report_renders_in_headless_chromium(report, tmp_path):
    browser = chromium_driver(tmp_path / "profile")
    try:
        browser.get(report.as_uri())
        assert "cnnlab run" in browser.title
        for section in SECTIONS:
            element = browser.find_element("id", section)
            assert element.is_displayed() and element.size["height"] > 20, section
        images = browser.find_elements("tag name", "img")
        assert len(images) >= 6
        for image in images:
            loaded = browser.execute_script(
                "return arguments[0].complete && arguments[0].naturalWidth > 0", image)
            assert loaded, image.get_attribute("alt")
    finally:
        browser.quit()
        subprocess.run(["pkill", "-f", str(tmp_path / "profile")], check=False)
