"""Constants and helpers of the dashboard tests (importable by name; fixtures are in conftest)."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import cnnlab
from cnnlab.layers import Conv2D, Dense, Flatten, MaxPooling2D

EVIL = "<script>alert(1)</script>"
CLASS_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
               "<img src=x onerror=alert(2)>"]
HERE = Path(__file__).resolve().parent
URL = re.compile(r"https?://\S+")


def start(args: list[str], env: dict | None = None) -> subprocess.Popen:
    """A Python process (this interpreter) with piped stdin/stdout/stderr, text mode."""
    return subprocess.Popen([sys.executable, *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def read_url(process: subprocess.Popen, timeout: float = 60.0) -> str:
    """The first URL the process prints on stdout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            raise AssertionError(f"process ended ({process.returncode}) before printing a URL: "
                                 f"{process.stderr.read()}")
        match = URL.search(line)
        if match:
            return match.group(0)
    raise AssertionError("no URL printed in time")


def stop(process: subprocess.Popen) -> None:
    """End a process this test started (by its handle), then reap it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def small_model(input_shape, conv_name="conv_a"):
    """Two convolutions and a softmax, compiled (Adam, sparse cross-entropy, accuracy)."""
    model = cnnlab.Sequential([
        Conv2D(4, 3, padding="same", activation="relu", input_shape=input_shape, name=conv_name),
        MaxPooling2D(2), Conv2D(6, 3, padding="same", activation="relu", name="conv_b"),
        Flatten(), Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
