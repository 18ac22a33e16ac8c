"""Losses against NumPy references written from the Keras formulas."""

import numpy as np
import pytest
import torch

from cnnlab import activations, losses

EPS = 1e-7
rng = np.random.default_rng(0)


def np_softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def np_cce(onehot, probs):
    p = np.clip(probs / probs.sum(-1, keepdims=True), EPS, 1 - EPS)
    return -(onehot * np.log(p)).sum(-1)


def np_bce(y, p):
    p = np.clip(p, EPS, 1 - EPS)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(-1)


def np_bce_logits(y, z):  # -(y log s(z) + (1-y) log(1-s(z))) = softplus(z) - y z
    return (np.logaddexp(0, z) - y * z).mean(-1)


def weighted_mean(per_sample, weights):
    """Keras 'sum_over_batch_size': sum(loss * w) / number of losses."""
    return (per_sample * weights).sum() / per_sample.size


LOGITS = rng.normal(size=(16, 5)) * 3
LABELS = rng.integers(0, 5, size=16)
ONEHOT = np.eye(5)[LABELS]
WEIGHTS = rng.uniform(0, 2, size=16)
T = torch.tensor


def test_categorical_crossentropy_from_probabilities():
    probs = np_softmax(LOGITS)
    out = losses.CategoricalCrossentropy()(T(ONEHOT), T(probs))
    np.testing.assert_allclose(out.item(), np_cce(ONEHOT, probs).mean(), rtol=1e-10)


def test_categorical_crossentropy_normalizes_unnormalized_probabilities():
    scores = rng.uniform(0.1, 3.0, size=(16, 5))  # rows do not sum to 1
    out = losses.categorical_crossentropy(T(ONEHOT), T(scores))
    np.testing.assert_allclose(out.numpy(), np_cce(ONEHOT, scores), rtol=1e-10)


def test_categorical_crossentropy_from_logits_and_from_softmax_output_agree():
    expected = np_cce(ONEHOT, np_softmax(LOGITS)).mean()
    from_logits = losses.CategoricalCrossentropy(from_logits=True)(T(ONEHOT), T(LOGITS))
    via_softmax = losses.CategoricalCrossentropy()(T(ONEHOT), activations.softmax(T(LOGITS)))
    np.testing.assert_allclose(from_logits.item(), expected, rtol=1e-10)
    np.testing.assert_allclose(via_softmax.item(), expected, rtol=1e-10)


def test_extreme_logits_stay_finite_and_exact_through_softmax_output():
    logits = T([[1000.0, 0.0, -1000.0]], dtype=torch.float64)
    label = T([[0.0, 0.0, 1.0]], dtype=torch.float64)
    naive = -(label * torch.log(torch.softmax(logits, -1))).sum()
    assert torch.isinf(naive) or torch.isnan(naive)
    # log-sum-exp of the logits minus the true logit: 1000 - (-1000) = 2000.
    assert losses.CategoricalCrossentropy()(label, activations.softmax(logits)).item() == 2000.0
    # Plain probabilities are clipped instead: -log(1e-7).
    clipped = losses.CategoricalCrossentropy()(label, torch.softmax(logits, -1))
    np.testing.assert_allclose(clipped.item(), -np.log(EPS), rtol=1e-9)


def test_gradient_through_cached_logits_is_softmax_minus_labels():
    logits = T(LOGITS, requires_grad=True)
    losses.CategoricalCrossentropy()(T(ONEHOT), activations.softmax(logits)).backward()
    expected = (np_softmax(LOGITS) - ONEHOT) / len(LOGITS)
    np.testing.assert_allclose(logits.grad.numpy(), expected, atol=1e-12)


def test_probability_path_gradient_matches_finite_differences():
    probs = T(rng.uniform(0.05, 1.0, size=(3, 4)), requires_grad=True)
    onehot = T(np.eye(4)[[0, 2, 3]])
    assert torch.autograd.gradcheck(lambda p: losses.categorical_crossentropy(onehot, p), probs)


def test_from_logits_true_on_softmax_output_warns_and_uses_logits():
    expected = np_cce(ONEHOT, np_softmax(LOGITS)).mean()
    with pytest.warns(UserWarning, match="holds probabilities, not logits"):
        out = losses.CategoricalCrossentropy(from_logits=True)(
            T(ONEHOT), activations.softmax(T(LOGITS))
        )
    np.testing.assert_allclose(out.item(), expected, rtol=1e-10)


def test_categorical_label_smoothing_and_sample_weight():
    s = 0.2
    smoothed = ONEHOT * (1 - s) + s / 5
    probs = np_softmax(LOGITS)
    out = losses.CategoricalCrossentropy(label_smoothing=s)(T(ONEHOT), T(probs), T(WEIGHTS))
    np.testing.assert_allclose(out.item(), weighted_mean(np_cce(smoothed, probs), WEIGHTS))


@pytest.mark.parametrize("shape", [(16,), (16, 1)])
@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.float32, torch.uint8])
def test_sparse_categorical_crossentropy_label_forms(shape, dtype):
    expected = np_cce(ONEHOT, np_softmax(LOGITS)).mean()
    labels = T(LABELS).reshape(shape).to(dtype)
    out = losses.SparseCategoricalCrossentropy(from_logits=True)(labels, T(LOGITS))
    np.testing.assert_allclose(out.item(), expected, rtol=1e-10)


def test_sparse_from_probabilities_and_softmax_output_and_weights():
    probs = np_softmax(LOGITS)
    expected = weighted_mean(np_cce(ONEHOT, probs), WEIGHTS)
    sparse = losses.SparseCategoricalCrossentropy()
    np.testing.assert_allclose(sparse(T(LABELS), T(probs), T(WEIGHTS)).item(), expected)
    via_softmax = sparse(T(LABELS), activations.softmax(T(LOGITS)), T(WEIGHTS))
    np.testing.assert_allclose(via_softmax.item(), expected)


def test_sparse_ignore_class_averages_over_the_other_samples():
    labels = LABELS.copy()
    labels[:5] = -1
    keep = labels != -1
    per_sample = np_cce(ONEHOT[keep], np_softmax(LOGITS[keep]))
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)
    np.testing.assert_allclose(loss(T(labels), T(LOGITS)).item(), per_sample.mean())
    per_sample_fn = losses.sparse_categorical_crossentropy(T(labels), T(LOGITS), True, -1)
    assert (per_sample_fn[:5] == 0).all()


def test_sparse_sequence_outputs_with_class_axis_last():
    logits = rng.normal(size=(2, 3, 4))
    labels = rng.integers(0, 4, size=(2, 3))
    expected = np_cce(np.eye(4)[labels], np_softmax(logits))
    out = losses.sparse_categorical_crossentropy(T(labels), T(logits), from_logits=True)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10)


def test_binary_crossentropy_probabilities_logits_and_sigmoid_output():
    z = rng.normal(size=(16, 3)) * 4
    y = (rng.uniform(size=(16, 3)) > 0.5).astype(float)
    p = 1 / (1 + np.exp(-z))
    bce = losses.BinaryCrossentropy()
    np.testing.assert_allclose(bce(T(y), T(p)).item(), np_bce(y, p).mean())
    np.testing.assert_allclose(
        losses.BinaryCrossentropy(from_logits=True)(T(y), T(z)).item(), np_bce_logits(y, z).mean()
    )
    np.testing.assert_allclose(bce(T(y), activations.sigmoid(T(z))).item(),
                               np_bce_logits(y, z).mean())


def test_binary_crossentropy_extreme_logits_via_sigmoid_output():
    z = T([[60.0], [-60.0]], dtype=torch.float64)
    y = T([[0.0], [1.0]], dtype=torch.float64)
    out = losses.BinaryCrossentropy()(y, activations.sigmoid(z))
    assert out.item() == pytest.approx(60.0, rel=1e-12)  # softplus(60) ~ 60, not clipped 16.1


def test_binary_crossentropy_on_softmax_output_uses_probabilities_not_softmax_logits():
    # Softmax logits are not sigmoid logits: the loss must read the probabilities.
    z = rng.normal(size=(8, 2))
    y = np.eye(2)[rng.integers(0, 2, size=8)]
    out = losses.BinaryCrossentropy()(T(y), activations.softmax(T(z)))
    np.testing.assert_allclose(out.item(), np_bce(y, np_softmax(z)).mean())


def test_binary_label_smoothing_rank_matching_and_weights():
    z = rng.normal(size=(16, 1))
    y = (rng.uniform(size=16) > 0.5).astype(float)  # (N,) labels for an (N, 1) output
    s = 0.1
    per_sample = np_bce_logits(y[:, None] * (1 - s) + s / 2, z)
    loss = losses.BinaryCrossentropy(from_logits=True, label_smoothing=s)
    np.testing.assert_allclose(loss(T(y), T(z), T(WEIGHTS)).item(),
                               weighted_mean(per_sample, WEIGHTS))


YT, YP = rng.normal(size=(16, 3)), rng.normal(size=(16, 3))
ERR = YT - YP


@pytest.mark.parametrize(
    "loss, per_sample",
    [
        (losses.MeanSquaredError(), (ERR**2).mean(-1)),
        (losses.MeanAbsoluteError(), np.abs(ERR).mean(-1)),
        (losses.MeanAbsolutePercentageError(), 100 * np.abs(ERR / YT).mean(-1)),
        (losses.Huber(delta=0.7),
         np.where(np.abs(ERR) <= 0.7, 0.5 * ERR**2, 0.7 * np.abs(ERR) - 0.5 * 0.7**2).mean(-1)),
        (losses.Hinge(), np.maximum(1 - YT * YP, 0).mean(-1)),
    ],
    ids=["mse", "mae", "mape", "huber", "hinge"],
)
def test_regression_losses_with_sample_weight(loss, per_sample):
    np.testing.assert_allclose(loss(T(YT), T(YP)).item(), per_sample.mean())
    np.testing.assert_allclose(loss(T(YT), T(YP), T(WEIGHTS)).item(),
                               weighted_mean(per_sample, WEIGHTS))


def test_hinge_converts_zero_one_labels():
    y = (rng.uniform(size=(16, 3)) > 0.5).astype(float)
    expected = np.maximum(1 - (2 * y - 1) * YP, 0).mean()
    np.testing.assert_allclose(losses.Hinge()(T(y), T(YP)).item(), expected)


def test_kl_divergence_clips_both_sides():
    t, p = np_softmax(YT), np_softmax(YP)
    t[0] = [1.0, 0.0, 0.0]
    tc, pc = np.clip(t, EPS, 1), np.clip(p, EPS, 1)
    expected = (tc * np.log(tc / pc)).sum(-1).mean()
    np.testing.assert_allclose(losses.KLDivergence()(T(t), T(p)).item(), expected)


def test_mse_does_not_broadcast_n_by_n():
    y = rng.normal(size=16)
    p = rng.normal(size=(16, 1))
    np.testing.assert_allclose(losses.MeanSquaredError()(T(y), T(p)).item(),
                               ((y - p[:, 0]) ** 2).mean())


def test_reductions():
    per_sample = (ERR**2).mean(-1)
    mse = losses.MeanSquaredError
    np.testing.assert_allclose(mse(reduction="sum")(T(YT), T(YP)).item(), per_sample.sum())
    np.testing.assert_allclose(mse(reduction="none")(T(YT), T(YP)).numpy(), per_sample)
    with pytest.raises(ValueError, match="reduction must be one of"):
        mse(reduction="avg")


def test_numpy_inputs_are_accepted():
    out = losses.MeanSquaredError()(YT, YP.astype(np.float32))
    assert out.dtype == torch.float32
    np.testing.assert_allclose(out.item(), (ERR**2).mean(), rtol=1e-5)


@pytest.mark.parametrize(
    "name, cls",
    [("categorical_crossentropy", losses.CategoricalCrossentropy),
     ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy),
     ("binary_crossentropy", losses.BinaryCrossentropy), ("mse", losses.MeanSquaredError),
     ("MSE", losses.MeanSquaredError), ("mean_squared_error", losses.MeanSquaredError),
     ("mae", losses.MeanAbsoluteError), ("mape", losses.MeanAbsolutePercentageError),
     ("huber", losses.Huber), ("hinge", losses.Hinge), ("kld", losses.KLDivergence),
     ("CategoricalCrossentropy", losses.CategoricalCrossentropy)],
)
def test_get_by_name(name, cls):
    assert type(losses.get(name)) is cls


def test_get_names_instance_after_identifier_like_keras():
    assert losses.get("mse").name == "mse"
    assert losses.get("MeanSquaredError").name == "mean_squared_error"


def test_get_wraps_functions_and_round_trips_configs():
    def my_loss(y_true, y_pred):
        return (y_true - y_pred).abs().sum(-1)

    wrapped = losses.get(my_loss)
    assert wrapped.name == "my_loss"
    np.testing.assert_allclose(wrapped(T(YT), T(YP)).item(), np.abs(ERR).sum(-1).mean())
    original = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
    config = losses.serialize(original)
    assert config["config"] == {"name": "categorical_crossentropy",
                                "reduction": "sum_over_batch_size", "from_logits": True,
                                "label_smoothing": 0.1, "axis": -1}
    assert losses.get(config).get_config() == original.get_config()


def test_get_errors():
    with pytest.raises(ValueError, match="Unknown loss 'categorical_crosentropy'"):
        losses.get("categorical_crosentropy")
    with pytest.raises(TypeError, match="loss must be"):
        losses.get(3)
    with pytest.raises(ValueError, match="same shape"):
        losses.categorical_crossentropy(T(LABELS), T(LOGITS))


# --- check_targets --------------------------------------------------------------------------

N = 6


def test_check_targets_accepts_fitting_labels():
    losses.check_targets("sparse_categorical_crossentropy", np.arange(N) % 10, (None, 10))
    losses.check_targets("sparse_categorical_crossentropy", (np.arange(N) % 10)[:, None],
                         (None, 10))
    losses.check_targets("categorical_crossentropy", np.eye(10)[np.arange(N)], (None, 10))
    losses.check_targets("binary_crossentropy", np.ones(N), (None, 1))
    losses.check_targets("mse", np.ones((N, 3)), (None, 7))  # not a classification loss


def test_check_targets_sparse_given_one_hot():
    with pytest.raises(ValueError) as err:
        losses.check_targets("sparse_categorical_crossentropy", np.eye(10)[np.arange(N)],
                             (None, 10))
    msg = str(err.value)
    assert "loss='sparse_categorical_crossentropy'" in msg
    assert "(N, 10)" in msg and "(N,) or (N, 1)" in msg
    assert "categorical_crossentropy" in msg.split("one-hot")[1] and "argmax" in msg


@pytest.mark.parametrize("labels", [np.arange(N) % 10, (np.arange(N) % 10)[:, None]])
def test_check_targets_categorical_given_integer_labels(labels):
    with pytest.raises(ValueError) as err:
        losses.check_targets("categorical_crossentropy", labels, (None, 10))
    msg = str(err.value)
    assert "loss='categorical_crossentropy'" in msg and "(N, 10)" in msg
    assert "sparse_categorical_crossentropy" in msg and "to_categorical(y, 10)" in msg


def test_check_targets_class_index_out_of_range():
    with pytest.raises(ValueError, match=r"\[0, 10\).*range over \[0, 10\].*11 units"):
        losses.check_targets("sparse_categorical_crossentropy", np.arange(11), (None, 10))
    with pytest.raises(ValueError, match=r"range over \[-1, 3\]"):
        losses.check_targets("sparse_categorical_crossentropy", np.array([-1, 3]), (None, 10))
    with pytest.raises(ValueError, match="whole numbers"):
        losses.check_targets("sparse_categorical_crossentropy", np.array([0.5, 1.0]), (None, 10))


def test_check_targets_ignore_class_is_exempt_from_range():
    loss = losses.SparseCategoricalCrossentropy(ignore_class=-1)
    losses.check_targets(loss, np.array([-1, 0, 9]), (None, 10))


def test_check_targets_one_hot_width_mismatch():
    with pytest.raises(ValueError, match="width 5 do not fit an output of 10 units"):
        losses.check_targets("categorical_crossentropy", np.eye(5)[np.arange(N) % 5], (None, 10))


def test_check_targets_binary_labels():
    with pytest.raises(ValueError, match=r"binary labels must lie in \[0, 1\].*\[0, 2\]"):
        losses.check_targets("binary_crossentropy", np.array([0, 1, 2]), (None, 1))
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        losses.check_targets("binary_crossentropy", np.arange(N) % 10, (None, 10))
