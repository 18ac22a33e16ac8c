"""Shared set-up of the dashboard tests: a run store with three runs, headless Chromium."""

import os
import shutil
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from dashboard_helpers import CLASS_NAMES, EVIL, small_model  # noqa: E402

import cnnlab  # noqa: E402
from cnnlab.data.catalog import load_dataset  # noqa: E402
from cnnlab.runs.store import RunStore  # noqa: E402


@pytest.fixture(scope="session")
def store_home(tmp_path_factory):
    """``$CNNLAB_HOME`` with three recorded runs on the digits; the third has a run name and a
    layer name and a class name made of HTML."""
    home = tmp_path_factory.mktemp("dashboard-home")
    mp = pytest.MonkeyPatch()
    mp.setenv("CNNLAB_HOME", str(home))
    data = load_dataset("digits")
    store = RunStore()
    ids = []
    for k, (name, conv, epochs) in enumerate([("adam-a", "conv_a", 2), ("adam-b", "conv_a", 3),
                                              (EVIL, EVIL, 2)]):
        cnnlab.set_random_seed(k)
        model = small_model(data.input_shape, conv)
        model.fit(data.x_train[:600], data.y_train[:600], epochs=epochs, batch_size=64,
                  validation_split=0.2, verbose=0, run=name)
        names = CLASS_NAMES if name == EVIL else data.class_names
        store.update_config(model.run_id, data="digits", class_names=names)
        ids.append(model.run_id)
    mp.undo()
    return home, ids


def chromium(profile: Path):
    """Headless Chromium driven by selenium (skips when Debian's packages are missing)."""
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not binary or not driver:
        pytest.skip("Debian's chromium and chromium-driver are not installed (make browser)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", f"--user-data-dir={profile}", "--window-size=1400,2000"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver), options=options)


@pytest.fixture
def browser(tmp_path):
    driver = chromium(tmp_path / "profile")
    yield driver
    driver.quit()  # ends Chromium and chromedriver (the processes this fixture started)


@pytest.fixture
def artifacts(tmp_path):
    """Folder for screenshots: ``$CNNLAB_TEST_ARTIFACTS`` or the test's tmp folder (printed)."""
    folder = Path(os.environ.get("CNNLAB_TEST_ARTIFACTS", tmp_path / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"screenshots in {folder}")
    return folder
