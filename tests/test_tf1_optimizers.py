"""TF1 constructors against NumPy transcriptions of TF1's update rules (tf.raw_ops.Apply*)."""

import json

import numpy as np
import pytest
import torch

from cnnlab import optimizers
from cnnlab.optimizers import tf1 as tf1_optimizers

RNG = np.random.default_rng(1)
W0 = RNG.normal(size=(4, 3))
GRADS = [RNG.normal(size=W0.shape) * s for s in (2.0, 0.1, 1.0, 0.5)]


def run(opt, between=None):
    p = torch.nn.Parameter(torch.tensor(W0))
    opt.build([p])
    for t, g in enumerate(GRADS):
        if between is not None:
            between(t, opt)
        p.grad = torch.tensor(g)
        opt.step()
    return p.detach().numpy()


def test_gradient_descent():
    expected = W0 - 0.1 * sum(GRADS)
    np.testing.assert_allclose(run(tf1_optimizers.GradientDescentOptimizer(0.1)), expected,
                               rtol=1e-12)


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_keeps_lr_outside_the_accumulator(nesterov):
    # ApplyMomentum: accum = accum * momentum + grad; var -= lr * accum
    # (nesterov: var -= lr * grad + lr * momentum * accum). The lr halves after two steps.
    lrs = [0.1, 0.1, 0.05, 0.05]
    w, accum = W0.copy(), np.zeros_like(W0)
    for lr, g in zip(lrs, GRADS, strict=True):
        accum = accum * 0.9 + g
        w = w - (lr * g + lr * 0.9 * accum if nesterov else lr * accum)

    def halve(t, opt):
        if t == 2:
            opt.learning_rate = 0.05

    opt = tf1_optimizers.MomentumOptimizer(0.1, momentum=0.9, use_nesterov=nesterov)
    np.testing.assert_allclose(run(opt, halve), w, rtol=1e-12)
    assert isinstance(opt.torch_optimizer, torch.optim.SGD)  # torch's rule is TF1's


@pytest.mark.parametrize("centered", [False, True])
def test_rmsprop_mean_square_starts_at_one(centered):
    # ApplyRMSProp with the "rms" slot initialised to ones, as tf.train.RMSPropOptimizer does.
    w, ms, mg, mom = W0.copy(), np.ones_like(W0), np.zeros_like(W0), np.zeros_like(W0)
    for g in GRADS:
        ms = 0.8 * ms + 0.2 * g**2
        mg = 0.8 * mg + 0.2 * g
        mom = 0.5 * mom + 0.01 * g / np.sqrt((ms - mg**2 if centered else ms) + 1e-10)
        w = w - mom
    opt = tf1_optimizers.RMSPropOptimizer(0.01, decay=0.8, momentum=0.5, centered=centered)
    np.testing.assert_allclose(run(opt), w, rtol=1e-12)


def test_adagrad_has_no_epsilon():
    w, acc = W0.copy(), np.full_like(W0, 0.2)
    for g in GRADS:
        acc = acc + g * g
        w = w - 0.1 * g / np.sqrt(acc)
    opt = tf1_optimizers.AdagradOptimizer(0.1, initial_accumulator_value=0.2)
    np.testing.assert_allclose(run(opt), w, rtol=1e-12)


def test_adam_uses_epsilon_hat_with_tf1_default():
    # tf.train.AdamOptimizer: lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t);
    # var -= lr_t * m / (sqrt(v) + epsilon), epsilon defaulting to 1e-8.
    w, m, v = W0.copy(), np.zeros_like(W0), np.zeros_like(W0)
    for t, g in enumerate(GRADS, start=1):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        w = w - 0.01 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t) * m / (np.sqrt(v) + 1e-8)
    opt = tf1_optimizers.AdamOptimizer(learning_rate=0.01)
    assert opt.epsilon == 1e-8
    np.testing.assert_allclose(run(opt), w, rtol=1e-12)


def test_adadelta_defaults():
    opt = tf1_optimizers.AdadeltaOptimizer()
    assert (opt.learning_rate, opt.rho, opt.epsilon) == (0.001, 0.95, 1e-8)


def test_tf1_variants_serialize_under_their_own_names():
    opt = tf1_optimizers.RMSPropOptimizer(0.01, momentum=0.5)
    restored = optimizers.get(json.loads(json.dumps(optimizers.serialize(opt))))
    assert isinstance(restored, tf1_optimizers.TF1RMSProp)
    np.testing.assert_array_equal(run(restored), run(opt))
