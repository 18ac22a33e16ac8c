"""Progbar output, character for character.

Expected lines are written out by hand from Keras 2's format (tf.keras 2.15
``keras/src/utils/generic_utils.py::Progbar``), which prints e.g.
``540/540 [==============================] - 28s 51ms/step - loss: 0.4521``; the clock is
scripted so every duration is exact.
"""

import sys

import pytest
import torch

from cnnlab.training import progbar
from cnnlab.training.progbar import Progbar, format_duration, format_eta, format_value

FULL = "[" + "=" * 30 + "]"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(progbar, "_clock", fake)
    return fake


def as_terminal(monkeypatch):
    """Makes the captured stdout claim to be a TTY (inside the test: capsys swaps stdout in)."""
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)


def run_steps(bar, clock, steps, first=1.0, then=0.125, values=None):
    """Step 1 takes ``first`` seconds, later steps ``then`` each (binary-exact durations)."""
    for step in range(1, steps + 1):
        clock.now += first if step == 1 else then
        bar.update(step, values(step) if values else None)


# --- number and time formats ---


@pytest.mark.parametrize(
    "value, text",
    [(0.45213, "0.4521"), (2.5, "2.5000"), (-0.5, "-0.5000"), (0.0011, "0.0011"),
     (1e-3, "1.0000e-03"), (1.5e-5, "1.5000e-05"), (-2e-4, "-2.0000e-04"), (0.0, "0.0000e+00")],
)
def test_value_format_is_4f_above_1e3_else_4e(value, text):
    assert format_value(value) == text


@pytest.mark.parametrize(
    "seconds, text",
    [(0, " 0s/step"), (28.4, " 28s/step"), (1.0, " 1s/step"), (0.051, " 51ms/step"),
     (0.001, " 1ms/step"), (0.00073, " 730us/step")],
)
def test_duration_format_picks_s_ms_or_us(seconds, text):
    assert format_duration(seconds, "step") == text


@pytest.mark.parametrize(
    "seconds, text",
    [(12.9, "12s"), (60, "60s"), (62.5, "1:02"), (3600, "60:00"), (3725, "1:02:05")],
)
def test_eta_format(seconds, text):
    assert format_eta(seconds) == text


# --- verbose=1, not a terminal: only the finished line ---


def test_pipe_output_is_the_final_line_only(clock, capsys):
    bar = Progbar(8)
    run_steps(bar, clock, 8, values=lambda s: [("loss", float(s))])
    # elapsed 1 + 7 * 0.125 = 1.875 s; per step, leaving out the first: 0.875 / 7 = 125 ms;
    # loss is the mean of 1..8 = 4.5
    assert capsys.readouterr().out == f"8/8 {FULL} - 2s 125ms/step - loss: 4.5000\n"


def test_values_are_averaged_weighted_by_steps_stateful_shown_as_given(clock, capsys):
    bar = Progbar(10, stateful_metrics=["acc"])
    bar.update(2, [("loss", 1.0), ("acc", 0.1)])  # covers 2 steps
    bar.update(5, [("loss", 2.0), ("acc", 0.7)])  # covers 3 steps
    bar.add(5, [("loss", 4.0), ("acc", 0.9)])  # covers 5 steps -> step 10
    loss = (2 * 1.0 + 3 * 2.0 + 5 * 4.0) / 10
    line = capsys.readouterr().out
    assert line.endswith(f" - loss: {loss:.4f} - acc: 0.9000\n")
    assert line.startswith(f"10/10 {FULL} - 0s 0s/step")


def test_bar_width_and_right_aligned_count(clock, capsys):
    bar = Progbar(540, width=10)
    clock.now = 54.0
    bar.update(540)
    # 54 s over 540 steps, step 1 never reported: 100 ms/step
    assert capsys.readouterr().out == "540/540 [==========] - 54s 100ms/step\n"


def test_explicit_finalize_and_unknown_target(clock, capsys):
    bar = Progbar(None)
    run_steps(bar, clock, 3)
    assert capsys.readouterr().out == ""  # nothing until the end when not interactive
    bar.update(3, [("loss", 0.25)], finalize=True)
    assert capsys.readouterr().out == "      3/Unknown - 1s 125ms/step - loss: 0.2500\n"


# --- verbose=1 on a terminal: redrawn in place with \r ---


def test_terminal_redraws_with_carriage_return_and_eta(clock, capsys, monkeypatch):
    as_terminal(monkeypatch)
    bar = Progbar(4)
    run_steps(bar, clock, 4, then=0.5, values=lambda s: [("loss", 1.0)])
    out = capsys.readouterr().out
    frames = out.split("\r")[1:]
    assert frames == [
        # step 1 took 1 s, 3 steps to go -> ETA 3s; int(30 * 1/4) = 7 cells filled, '>' last
        "1/4 [" + "=" * 6 + ">" + "." * 23 + "] - ETA: 3s - loss: 1.0000",
        # later ETAs leave out the first step: 0.5 s per step
        "2/4 [" + "=" * 14 + ">" + "." * 15 + "] - ETA: 1s - loss: 1.0000",  # 15 cells
        "3/4 [" + "=" * 21 + ">" + "." * 8 + "] - ETA: 0s - loss: 1.0000",  # int(22.5) = 22
        f"4/4 {FULL} - 2s 500ms/step - loss: 1.0000\n",
    ]


def test_terminal_blanks_the_tail_of_a_longer_previous_line(clock, capsys, monkeypatch):
    as_terminal(monkeypatch)
    bar = Progbar(100, width=1)
    clock.now = 62.0
    bar.update(1)  # ETA 99 * 62 s -> '1:42:18'
    clock.now = 62.5
    bar.update(2)  # 0.5 s per step since step 1, 98 steps to go -> '49s' (4 chars shorter)
    first, second = capsys.readouterr().out.split("\r")[1:]
    assert first == "  1/100 [.] - ETA: 1:42:18"
    assert second == "  2/100 [.] - ETA: 49s" + " " * 4


def test_terminal_updates_are_throttled_by_interval(clock, capsys, monkeypatch):
    as_terminal(monkeypatch)
    bar = Progbar(10, interval=0.05)
    for step in range(1, 11):
        clock.now += 0.02
        bar.update(step)
    counts = [frame.split("/")[0].strip() for frame in capsys.readouterr().out.split("\r")[1:]]
    # drawn at t=0.02 (first), then when >= 0.05 s passed since the last drawing; always at end
    assert counts == ["1", "4", "7", "10"]


# --- verbose=2: one line at the end ---


def test_verbose_2_prints_one_summary_line(clock, capsys):
    bar = Progbar(8, verbose=2)
    run_steps(bar, clock, 8, values=lambda s: [("loss", 0.5), ("accuracy", 0.75)])
    # 1.875 s in all, 1.875 / 8 = 234.375 ms per step (first step included, as Keras)
    assert capsys.readouterr().out == (
        "8/8 - 2s - loss: 0.5000 - accuracy: 0.7500 - 2s/epoch - 234ms/step\n"
    )


def test_verbose_0_prints_nothing(clock, capsys):
    run_steps(Progbar(3, verbose=0), clock, 3, values=lambda s: [("loss", 1.0)])
    assert capsys.readouterr().out == ""


def test_tensor_values_are_read_only_when_drawn(clock, capsys):
    bar = Progbar(2, stateful_metrics=["acc"])
    bar.update(1, [("loss", torch.tensor(1.0)), ("acc", torch.tensor(0.5))])
    bar.update(2, [("loss", torch.tensor(2.0)), ("acc", torch.tensor(0.25))])
    assert capsys.readouterr().out.endswith(" - loss: 1.5000 - acc: 0.2500\n")


@pytest.mark.parametrize("kwargs", [{"target": 0}, {"target": 2.5}, {"target": 3, "verbose": 3}])
def test_bad_arguments_raise_value_error(kwargs):
    with pytest.raises(ValueError, match="target|verbose"):
        Progbar(**kwargs)
