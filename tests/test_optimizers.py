"""Optimizers against NumPy transcriptions of Keras 3's update rules (float64, fixed gradients).

The references below are written from the formulas in Keras's docs and source
(keras/src/optimizers/*.py, ``update_step``), one array at a time, with plain loops.
"""

import io
import json

import numpy as np
import pytest
import torch

from cnnlab import optimizers
from cnnlab.optimizers.schedules import ExponentialDecay

RNG = np.random.default_rng(0)
W0 = [RNG.normal(size=(3, 4)), RNG.normal(size=(5,))]
# Gradient magnitudes vary from step to step so that AMSGrad's max and Adamax's norm matter.
GRADS = [[RNG.normal(size=w.shape) * s for w in W0] for s in (3.0, 0.1, 2.0, 0.05, 1.0)]


def lr_at(lr, t):
    return lr[t] if isinstance(lr, list) else lr


# -- NumPy references: each takes one array w, its gradient sequence, and returns the final w --
def ref_sgd(w, grads, lr, momentum=0.0, nesterov=False):
    w, m = w.copy(), np.zeros_like(w)
    for t, g in enumerate(grads):
        lr_t = lr_at(lr, t)
        if momentum == 0:
            w = w - lr_t * g
            continue
        m = momentum * m - lr_t * g
        w = w + (momentum * m - lr_t * g if nesterov else m)
    return w


def ref_rmsprop(w, grads, lr, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, v0=0.0):
    w, v, a, mom = w.copy(), np.full_like(w, v0), np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads):
        v = rho * v + (1 - rho) * g**2
        if centered:
            a = rho * a + (1 - rho) * g
            denominator = v - a**2 + epsilon
        else:
            denominator = v + epsilon
        increment = lr_at(lr, t) * g / np.sqrt(denominator)
        if momentum > 0:
            mom = momentum * mom + increment
            w = w - mom
        else:
            w = w - increment
    return w


def ref_adagrad(w, grads, lr, initial_accumulator_value=0.1, epsilon=1e-7):
    w, acc = w.copy(), np.full_like(w, initial_accumulator_value)
    for t, g in enumerate(grads):
        acc = acc + g**2
        w = w - lr_at(lr, t) * g / np.sqrt(acc + epsilon)
    return w


def ref_adadelta(w, grads, lr, rho=0.95, epsilon=1e-7):
    w, eg, edx = w.copy(), np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads):
        eg = rho * eg + (1 - rho) * g**2
        delta = -np.sqrt(edx + epsilon) / np.sqrt(eg + epsilon) * g
        edx = rho * edx + (1 - rho) * delta**2
        w = w + lr_at(lr, t) * delta
    return w


def ref_adam(w, grads, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
             weight_decay=0.0):
    w, m, v, v_max = w.copy(), np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads):
        step = t + 1
        w = w - lr_at(lr, t) * weight_decay * w
        alpha = lr_at(lr, t) * np.sqrt(1 - beta_2**step) / (1 - beta_1**step)
        m = m + (g - m) * (1 - beta_1)
        v = v + (g**2 - v) * (1 - beta_2)
        v_max = np.maximum(v_max, v)
        w = w - alpha * m / (np.sqrt(v_max if amsgrad else v) + epsilon)
    return w


def ref_nadam(w, grads, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    w, m, v, u_product = w.copy(), np.zeros_like(w), np.zeros_like(w), 1.0
    for t, g in enumerate(grads):
        step = t + 1
        u_t = beta_1 * (1 - 0.5 * 0.96**step)
        u_next = beta_1 * (1 - 0.5 * 0.96 ** (step + 1))
        u_product = u_product * u_t
        m = m + (g - m) * (1 - beta_1)
        v = v + (g**2 - v) * (1 - beta_2)
        m_hat = u_next * m / (1 - u_product * u_next) + (1 - u_t) * g / (1 - u_product)
        v_hat = v / (1 - beta_2**step)
        w = w - lr_at(lr, t) * m_hat / (np.sqrt(v_hat) + epsilon)
    return w


def ref_adamax(w, grads, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    w, m, u = w.copy(), np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads):
        step = t + 1
        m = m + (g - m) * (1 - beta_1)
        u = np.maximum(beta_2 * u, np.abs(g))
        w = w - lr_at(lr, t) * m / ((1 - beta_1**step) * (u + epsilon))
    return w


def ref_with_weight_decay(ref, weight_decay):
    """Keras's decoupled decay, applied before each update: w -= lr * weight_decay * w."""

    def run(w, grads, lr, **kwargs):
        for t, g in enumerate(grads):
            w = w - lr_at(lr, t) * weight_decay * w
            w = ref(w, [g], lr_at(lr, t), **kwargs)
        return w

    return run


def reference(ref, grads=GRADS, **kwargs):
    return [ref(w, [step[i] for step in grads], **kwargs) for i, w in enumerate(W0)]


def run_cnnlab(opt, grads=GRADS, between=None):
    params = [torch.nn.Parameter(torch.tensor(w)) for w in W0]
    opt.build(params)
    for t, step in enumerate(grads):
        if between is not None:
            between(t, opt)
        for p, g in zip(params, step, strict=True):
            p.grad = torch.tensor(g)
        opt.step()
    return [p.detach().numpy() for p in params]


def assert_close(got, expected, rtol=1e-10):
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=rtol, atol=1e-12)


RULE_CASES = {
    "sgd": (lambda: optimizers.SGD(0.1), ref_sgd, {"lr": 0.1}),
    "sgd_momentum": (lambda: optimizers.SGD(0.1, momentum=0.9), ref_sgd,
                     {"lr": 0.1, "momentum": 0.9}),
    "sgd_nesterov": (lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True), ref_sgd,
                     {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    "sgd_weight_decay": (lambda: optimizers.SGD(0.1, weight_decay=0.2),
                         ref_with_weight_decay(ref_sgd, 0.2), {"lr": 0.1}),
    "rmsprop": (lambda: optimizers.RMSprop(0.01), ref_rmsprop, {"lr": 0.01}),
    "rmsprop_momentum": (lambda: optimizers.RMSprop(0.01, momentum=0.5), ref_rmsprop,
                         {"lr": 0.01, "momentum": 0.5}),
    "rmsprop_centered": (lambda: optimizers.RMSprop(0.01, rho=0.8, centered=True, momentum=0.3),
                         ref_rmsprop, {"lr": 0.01, "rho": 0.8, "centered": True,
                                       "momentum": 0.3}),
    "adagrad": (lambda: optimizers.Adagrad(0.1), ref_adagrad, {"lr": 0.1}),
    "adadelta": (lambda: optimizers.Adadelta(1.0, rho=0.9), ref_adadelta,
                 {"lr": 1.0, "rho": 0.9}),
    "adam": (lambda: optimizers.Adam(0.01), ref_adam, {"lr": 0.01}),
    "adam_amsgrad": (lambda: optimizers.Adam(0.01, beta_1=0.8, amsgrad=True), ref_adam,
                     {"lr": 0.01, "beta_1": 0.8, "amsgrad": True}),
    "adamw": (lambda: optimizers.AdamW(0.01, weight_decay=0.1), ref_adam,
              {"lr": 0.01, "weight_decay": 0.1}),
    "nadam": (lambda: optimizers.Nadam(0.01), ref_nadam, {"lr": 0.01}),
    "adamax": (lambda: optimizers.Adamax(0.01, beta_2=0.9), ref_adamax,
               {"lr": 0.01, "beta_2": 0.9}),
}


@pytest.mark.parametrize("case", sorted(RULE_CASES))
def test_update_rule_matches_keras_formula(case):
    make, ref, kwargs = RULE_CASES[case]
    assert_close(run_cnnlab(make()), reference(ref, **kwargs))


def test_float32_parameters_follow_the_same_rule():
    params = [torch.nn.Parameter(torch.tensor(w, dtype=torch.float32)) for w in W0]
    opt = optimizers.Adam(0.01)
    opt.build(params)
    for step in GRADS:
        for p, g in zip(params, step, strict=True):
            p.grad = torch.tensor(g, dtype=torch.float32)
        opt.step()
    assert all(p.dtype == torch.float32 for p in params)
    assert_close([p.detach().numpy() for p in params], reference(ref_adam, lr=0.01), rtol=1e-5)


KERAS3_DEFAULTS = {  # keras.io/api/optimizers/<name>/ (Keras 3)
    "sgd": {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False},
    "rmsprop": {"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7,
                "centered": False},
    "adagrad": {"learning_rate": 0.001, "initial_accumulator_value": 0.1, "epsilon": 1e-7},
    "adadelta": {"learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-7},
    "adam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7,
             "amsgrad": False},
    "adamw": {"learning_rate": 0.001, "weight_decay": 0.004, "beta_1": 0.9, "beta_2": 0.999,
              "epsilon": 1e-7, "amsgrad": False},
    "nadam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    "adamax": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
}


@pytest.mark.parametrize("name", sorted(KERAS3_DEFAULTS))
def test_defaults_are_keras3_defaults(name):
    config = optimizers.get(name).get_config()
    assert {key: config[key] for key in KERAS3_DEFAULTS[name]} == KERAS3_DEFAULTS[name]
    assert config["clipnorm"] is config["clipvalue"] is config["global_clipnorm"] is None


def test_default_names_follow_keras():
    names = [optimizers.get(n).name for n in ("sgd", "adam", "adamw", "rmsprop")]
    assert names == ["sgd", "adam", "adam_w", "rm_sprop"]


def test_lr_is_a_legacy_alias_for_learning_rate():
    assert optimizers.SGD(lr=0.5).learning_rate == 0.5
    assert optimizers.Adam(lr=0.002, decay=0.0).get_config()["learning_rate"] == 0.002


def test_lr_and_learning_rate_together_is_an_error():
    with pytest.raises(TypeError, match="lr"):
        optimizers.Adam(learning_rate=0.01, lr=0.02)


def test_unknown_keyword_names_optimizer_and_argument():
    with pytest.raises(TypeError, match=r"RMSprop\(\).*'momentun'"):
        optimizers.RMSprop(momentun=0.9)


def test_keras2_epsilon_none_means_1e7():
    assert optimizers.Adam(epsilon=None).epsilon == 1e-7


def test_legacy_decay_divides_lr_by_one_plus_decay_times_iterations():
    grads = [[np.ones_like(w) for w in W0]] * 3
    lrs = [0.1 / (1 + 0.5 * t) for t in range(3)]
    got = run_cnnlab(optimizers.SGD(lr=0.1, momentum=0.9, decay=0.5), grads)
    assert_close(got, reference(ref_sgd, grads, lr=lrs, momentum=0.9))


def test_schedule_is_called_with_iterations_before_each_update():
    schedule = ExponentialDecay(0.01, decay_steps=2, decay_rate=0.5)
    lrs = [0.01 * 0.5 ** (t / 2) for t in range(len(GRADS))]
    opt = optimizers.Adam(learning_rate=schedule)
    assert_close(run_cnnlab(opt), reference(ref_adam, lr=lrs))
    assert opt.learning_rate == pytest.approx(0.01 * 0.5 ** (len(GRADS) / 2))


def test_learning_rate_cannot_be_set_to_a_number_over_a_schedule():
    opt = optimizers.SGD(learning_rate=ExponentialDecay(0.1, 10, 0.5))
    with pytest.raises(TypeError, match="LearningRateSchedule"):
        opt.learning_rate = 0.01


def test_setting_learning_rate_takes_effect_at_the_next_step():
    # Keras keeps lr inside the velocity: after the change the old velocity still decays.
    def halve_at_step_2(t, opt):
        if t == 2:
            opt.learning_rate = 0.05
            assert opt.torch_optimizer.param_groups[0]["lr"] == 0.05
            assert opt.lr == 0.05

    got = run_cnnlab(optimizers.SGD(0.1, momentum=0.9), between=halve_at_step_2)
    lrs = [0.1, 0.1, 0.05, 0.05, 0.05]
    assert_close(got, reference(ref_sgd, lr=lrs, momentum=0.9))


def test_lr_alias_setter_writes_learning_rate():
    opt = optimizers.RMSprop()
    opt.lr = 0.25
    assert opt.learning_rate == 0.25


def test_numpy_scalars_are_stored_as_json_floats():
    opt = optimizers.SGD(momentum=np.float32(0.5), clipnorm=np.float64(2.0))
    opt.learning_rate = np.float32(0.25)  # e.g. from a callback computing in NumPy
    config = json.loads(json.dumps(opt.get_config()))
    assert (config["learning_rate"], config["momentum"], config["clipnorm"]) == (0.25, 0.5, 2.0)


def test_clipvalue_clips_each_element():
    got = run_cnnlab(optimizers.SGD(1.0, clipvalue=0.5), GRADS[:1])
    assert_close(got, [w - np.clip(g, -0.5, 0.5) for w, g in zip(W0, GRADS[0], strict=True)])


def test_clipnorm_rescales_each_tensor_separately():
    norms = [np.linalg.norm(g) for g in GRADS[0]]
    c = (norms[0] + norms[1]) / 2  # the first tensor is clipped, the second is not
    expected = [w - g * c / max(n, c) for w, g, n in zip(W0, GRADS[0], norms, strict=True)]
    assert norms[0] > c > norms[1]
    assert_close(run_cnnlab(optimizers.SGD(1.0, clipnorm=c), GRADS[:1]), expected)


def test_global_clipnorm_rescales_all_gradients_together():
    total = np.sqrt(sum(np.sum(g**2) for g in GRADS[0]))
    expected = [w - g * 1.5 / total for w, g in zip(W0, GRADS[0], strict=True)]
    assert_close(run_cnnlab(optimizers.SGD(1.0, global_clipnorm=1.5), GRADS[:1]), expected)


@pytest.mark.parametrize("kwargs", [{"clipnorm": 1.0, "clipvalue": 1.0},
                                    {"clipnorm": 1.0, "global_clipnorm": 1.0}])
def test_only_one_clipping_argument(kwargs):
    with pytest.raises(ValueError, match="only one"):
        optimizers.Adam(**kwargs)


def test_frozen_parameters_are_skipped():
    live, frozen = (torch.nn.Parameter(torch.tensor(w)) for w in W0)
    opt = optimizers.Adam(0.1, weight_decay=0.5, global_clipnorm=0.1)
    opt.build([live, frozen])
    live.grad = torch.tensor(GRADS[0][0])
    opt.step()
    np.testing.assert_array_equal(frozen.detach().numpy(), W0[1])
    assert frozen not in opt.torch_optimizer.state
    # the global norm counts only the live gradient: 0.1 / |g| scaling, then Adam + decay
    clipped = GRADS[0][0] * 0.1 / np.linalg.norm(GRADS[0][0])
    expected = ref_adam(W0[0], [clipped], lr=0.1, weight_decay=0.5)
    np.testing.assert_allclose(live.detach().numpy(), expected, rtol=1e-10)
    assert opt.iterations == 1


def test_zero_grad_sets_gradients_to_none():
    p = torch.nn.Parameter(torch.ones(2))
    opt = optimizers.SGD()
    opt.build([p])
    p.grad = torch.ones(2)
    opt.zero_grad()
    assert p.grad is None


def test_step_before_build_is_an_error():
    with pytest.raises(RuntimeError, match="build"):
        optimizers.SGD().step()


def test_build_twice_starts_fresh():
    opt = optimizers.Adam(0.01)
    run_cnnlab(opt)
    assert opt.iterations == len(GRADS)
    assert_close(run_cnnlab(opt), reference(ref_adam, lr=0.01))


def test_build_rejects_empty_and_non_tensor_parameters():
    with pytest.raises(ValueError, match="no parameters"):
        optimizers.SGD().build([])
    with pytest.raises(TypeError, match="list"):
        optimizers.SGD().build([[1.0, 2.0]])


ROUND_TRIP_CASES = {
    "sgd_nesterov": lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True),
    "rmsprop_centered": lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    "adagrad": lambda: optimizers.Adagrad(0.1),
    "adadelta": lambda: optimizers.Adadelta(1.0),
    "adam_amsgrad": lambda: optimizers.Adam(0.01, amsgrad=True),
    "adamw_schedule": lambda: optimizers.AdamW(ExponentialDecay(0.01, 2, 0.5)),
    "nadam_decay": lambda: optimizers.Nadam(0.01, decay=0.1),
    "adamax": lambda: optimizers.Adamax(0.01),
}


@pytest.mark.parametrize("case", sorted(ROUND_TRIP_CASES))
def test_state_dict_round_trip_continues_bit_identically(case):
    make = ROUND_TRIP_CASES[case]
    params = [torch.nn.Parameter(torch.tensor(w)) for w in W0]
    original = make()
    original.build(params)

    def train(opt, ps, steps):
        for step in steps:
            for p, g in zip(ps, step, strict=True):
                p.grad = torch.tensor(g)
            opt.step()

    train(original, params, GRADS[:3])
    buffer = io.BytesIO()
    torch.save(original.state_dict(), buffer)
    resumed_params = [torch.nn.Parameter(p.detach().clone()) for p in params]
    train(original, params, GRADS[3:])

    buffer.seek(0)
    resumed = make()
    resumed.build(resumed_params)
    resumed.load_state_dict(torch.load(buffer, weights_only=True))
    assert resumed.iterations == 3
    train(resumed, resumed_params, GRADS[3:])
    for a, b in zip(params, resumed_params, strict=True):
        assert torch.equal(a, b)


def test_state_dict_keeps_a_changed_learning_rate():
    opt = optimizers.SGD(0.1)
    run_cnnlab(opt)
    opt.learning_rate = 0.003
    fresh = optimizers.SGD(0.1)
    run_cnnlab(fresh)
    fresh.load_state_dict(opt.state_dict())
    assert fresh.learning_rate == 0.003
    assert fresh.torch_optimizer.param_groups[0]["lr"] == 0.003


def test_load_state_dict_rejects_foreign_dicts():
    opt = optimizers.SGD()
    run_cnnlab(opt)
    with pytest.raises(ValueError, match="iterations"):
        opt.load_state_dict({"state": {}, "param_groups": []})


@pytest.mark.parametrize("name", ["sgd", "SGD", "Adam", "ADAM", "adamw", "AdamW", "rmsprop",
                                  "RMSprop", "adagrad", "Adadelta", "nadam", "Adamax"])
def test_get_by_name_is_case_insensitive(name):
    assert type(optimizers.get(name)).__name__.lower() == name.lower()


def test_get_unknown_name_lists_known_names():
    with pytest.raises(ValueError, match=r"'adam'.*'sgd'"):
        optimizers.get("adamm")


def test_get_returns_optimizer_instances_unchanged():
    opt = optimizers.Nadam()
    assert optimizers.get(opt) is opt


def test_get_rejects_other_types():
    with pytest.raises(TypeError, match="int"):
        optimizers.get(3)


@pytest.mark.parametrize(
    "opt",
    [
        optimizers.SGD(0.2, momentum=0.5, nesterov=True, clipnorm=2.0, name="s"),
        optimizers.RMSprop(0.01, rho=0.8, centered=True, global_clipnorm=1.0),
        optimizers.Adagrad(0.3, initial_accumulator_value=0.2, weight_decay=0.01),
        optimizers.Adadelta(1.0, rho=0.9, clipvalue=0.5),
        optimizers.Adam(learning_rate=ExponentialDecay(0.01, 10, 0.9), amsgrad=True),
        optimizers.AdamW(0.002, weight_decay=0.05),
        optimizers.Nadam(lr=0.004, decay=0.01),
        optimizers.Adamax(beta_1=0.8),
    ],
    ids=lambda opt: type(opt).__name__,
)
def test_config_round_trip_through_json(opt):
    data = json.loads(json.dumps(optimizers.serialize(opt)))
    assert data["class_name"] == type(opt).__name__
    restored = optimizers.get(data)
    assert type(restored) is type(opt)
    assert restored.get_config() == opt.get_config()


def test_from_config_reads_a_keras3_config():
    keras_config = {  # keras.optimizers.serialize(keras.optimizers.Adam()) in Keras 3.15
        "module": "keras.optimizers", "class_name": "Adam", "registered_name": None,
        "config": {"name": "adam", "learning_rate": 0.0010000000474974513, "weight_decay": None,
                   "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
                   "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                   "loss_scale_factor": None, "gradient_accumulation_steps": None,
                   "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False},
    }
    opt = optimizers.get(keras_config)
    assert isinstance(opt, optimizers.Adam)
    assert opt.learning_rate == pytest.approx(0.001)


def test_from_config_reads_a_keras2_config_with_lr_and_decay():
    opt = optimizers.get({"class_name": "RMSprop",
                          "config": {"lr": 0.01, "rho": 0.9, "epsilon": None, "decay": 0.1}})
    assert (opt.learning_rate, opt.decay, opt.epsilon) == (0.01, 0.1, 1e-7)


def test_from_config_refuses_keras_features_it_does_not_implement():
    with pytest.raises(ValueError, match="use_ema"):
        optimizers.Adam.from_config({"learning_rate": 0.001, "use_ema": True})


def test_get_config_of_a_plain_function_learning_rate_is_an_error():
    opt = optimizers.SGD(learning_rate=lambda: 0.1)
    assert opt.learning_rate == 0.1
    with pytest.raises(TypeError, match="LearningRateSchedule"):
        opt.get_config()


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: optimizers.AdamW(weight_decay=None), ValueError, "weight_decay"),
        (lambda: optimizers.SGD(momentum=1.5), ValueError, "momentum"),
        (lambda: optimizers.Adam(beta_1="0.9"), TypeError, "beta_1"),
        (lambda: optimizers.Adam(learning_rate="fast"), TypeError, "learning_rate"),
        (lambda: optimizers.Adam(learning_rate=-1.0), ValueError, "learning_rate"),
        (lambda: optimizers.SGD(clipnorm=0.0), ValueError, "clipnorm"),
    ],
)
def test_invalid_hyper_parameters(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_torch_optimizer_is_wrapped_and_steps_like_torch():
    ours = [torch.nn.Parameter(torch.tensor(w)) for w in W0]
    theirs = [torch.nn.Parameter(torch.tensor(w)) for w in W0]
    wrapped = optimizers.get(torch.optim.Adam(ours, lr=0.01))
    plain = torch.optim.Adam(theirs, lr=0.01)
    assert isinstance(wrapped, optimizers.TorchOptimizer)
    wrapped.build(ours)  # compile keeps the ready torch optimizer
    for step in GRADS:
        for a, b, g in zip(ours, theirs, step, strict=True):
            a.grad, b.grad = torch.tensor(g), torch.tensor(g)
        wrapped.step()
        plain.step()
    assert all(torch.equal(a, b) for a, b in zip(ours, theirs, strict=True))
    wrapped.learning_rate = 0.5
    assert wrapped.torch_optimizer.param_groups[0]["lr"] == 0.5


def test_torch_optimizer_config_rebuilds_the_torch_class():
    wrapped = optimizers.get(torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=0.1,
                                             momentum=0.9))
    data = json.loads(json.dumps(optimizers.serialize(wrapped)))
    restored = optimizers.get(data)
    params = [torch.nn.Parameter(torch.tensor(w)) for w in W0]
    restored.build(params)
    assert isinstance(restored.torch_optimizer, torch.optim.SGD)
    assert restored.torch_optimizer.param_groups[0]["momentum"] == 0.9
    assert restored.learning_rate == 0.1


def test_torch_optimizer_rejects_names_outside_torch_optim():
    with pytest.raises(ValueError, match="torch.optim"):
        optimizers.TorchOptimizer("os")
