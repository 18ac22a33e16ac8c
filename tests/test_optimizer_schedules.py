"""Learning-rate schedules against values worked out by hand from Keras's formulas."""

import json
import math

import pytest

from cnnlab import optimizers
from cnnlab.optimizers import schedules


@pytest.mark.parametrize(
    ("schedule", "step", "expected"),
    [
        (schedules.ExponentialDecay(0.1, 10, 0.5), 0, 0.1),
        (schedules.ExponentialDecay(0.1, 10, 0.5), 5, 0.1 / math.sqrt(2)),
        (schedules.ExponentialDecay(0.1, 10, 0.5), 20, 0.025),
        (schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True), 15, 0.05),
        (schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True), 9, 0.1),
        (schedules.InverseTimeDecay(0.1, 1, 0.5), 2, 0.05),
        (schedules.InverseTimeDecay(0.1, 2, 0.5), 3, 0.1 / 1.75),
        (schedules.InverseTimeDecay(0.1, 2, 0.5, staircase=True), 3, 0.1 / 1.5),
        (schedules.CosineDecay(1.0, 10), 0, 1.0),
        (schedules.CosineDecay(1.0, 10), 5, 0.5),
        (schedules.CosineDecay(1.0, 10), 10, 0.0),
        (schedules.CosineDecay(1.0, 10), 25, 0.0),
        (schedules.CosineDecay(2.0, 10, alpha=0.1), 5, 2.0 * (0.9 * 0.5 + 0.1)),
        (schedules.CosineDecay(2.0, 10, alpha=0.1), 99, 0.2),
        (schedules.CosineDecay(0.0, 10, warmup_target=1.0, warmup_steps=4), 2, 0.5),
        (schedules.CosineDecay(0.0, 10, warmup_target=1.0, warmup_steps=4), 4, 1.0),
        (schedules.CosineDecay(0.0, 10, warmup_target=1.0, warmup_steps=4), 9, 0.5),
        (schedules.CosineDecay(0.0, 10, warmup_target=1.0, warmup_steps=4), 100, 0.0),
    ],
)
def test_schedule_values(schedule, step, expected):
    assert schedule(step) == pytest.approx(expected, abs=1e-12)


def test_piecewise_constant_boundaries_belong_to_the_left_interval():
    schedule = schedules.PiecewiseConstantDecay([100, 200], [1.0, 0.5, 0.1])
    got = [schedule(s) for s in (0, 100, 101, 200, 201, 10_000)]
    assert got == [1.0, 1.0, 0.5, 0.5, 0.1, 0.1]


@pytest.mark.parametrize(
    "schedule",
    [
        schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True, name="e"),
        schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1]),
        schedules.InverseTimeDecay(0.1, 3, 0.2),
        schedules.CosineDecay(0.0, 10, alpha=0.1, warmup_target=1.0, warmup_steps=3),
    ],
)
def test_serialize_round_trip_through_json(schedule):
    data = json.loads(json.dumps(schedules.serialize(schedule)))
    assert data["class_name"] == type(schedule).__name__
    restored = schedules.deserialize(data)
    assert restored.get_config() == schedule.get_config()
    assert [restored(s) for s in range(0, 30, 3)] == [schedule(s) for s in range(0, 30, 3)]


def test_deserialize_reads_keras3_format():
    keras_config = {  # as keras.optimizers.schedules.serialize writes it
        "module": "keras.optimizers.schedules",
        "class_name": "ExponentialDecay",
        "config": {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5,
                   "staircase": False, "name": "ExponentialDecay"},
        "registered_name": None,
    }
    assert schedules.deserialize(keras_config)(10) == pytest.approx(0.05)


def test_optimizers_module_exposes_schedules_namespace():
    assert optimizers.schedules.CosineDecay is schedules.CosineDecay


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: schedules.ExponentialDecay(0.1, 0, 0.5), "decay_steps"),
        (lambda: schedules.InverseTimeDecay(0.1, -1, 0.5), "decay_steps"),
        (lambda: schedules.CosineDecay(0.1, 0), "decay_steps"),
        (lambda: schedules.PiecewiseConstantDecay([1, 2], [1.0, 0.5]), "length"),
        (lambda: schedules.PiecewiseConstantDecay([2, 1], [1.0, 0.5, 0.1]), "increasing"),
        (lambda: schedules.deserialize({"class_name": "Nope", "config": {}}), "ExponentialDecay"),
    ],
)
def test_invalid_arguments_raise_value_error(build, message):
    with pytest.raises(ValueError, match=message):
        build()
