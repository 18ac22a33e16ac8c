"""Metrics against NumPy counts; streaming; Keras's 'accuracy' resolution."""

import numpy as np
import pytest
import torch

from cnnlab import activations, losses, metrics

rng = np.random.default_rng(1)
N, C = 40, 6
SCORES = rng.normal(size=(N, C))
LABELS = rng.integers(0, C, size=N)
LABELS[:10] = SCORES[:10].argmax(1)  # make some hits
ONEHOT = np.eye(C)[LABELS]
WEIGHTS = rng.uniform(0, 2, size=N)
T = torch.tensor


def result_of(metric, y_true, y_pred, sample_weight=None):
    metric.update_state(T(y_true), T(y_pred), None if sample_weight is None else T(sample_weight))
    return metric.result()


def test_sparse_and_categorical_accuracy_count_argmax_hits():
    hits = SCORES.argmax(1) == LABELS
    assert result_of(metrics.SparseCategoricalAccuracy(), LABELS, SCORES) == pytest.approx(
        hits.mean())
    assert result_of(metrics.SparseCategoricalAccuracy(), LABELS[:, None].astype(float),
                     SCORES) == pytest.approx(hits.mean())
    assert result_of(metrics.CategoricalAccuracy(), ONEHOT, SCORES) == pytest.approx(hits.mean())


def test_sample_weights_weight_each_sample():
    hits = SCORES.argmax(1) == LABELS
    expected = (hits * WEIGHTS).sum() / WEIGHTS.sum()
    assert result_of(metrics.SparseCategoricalAccuracy(), LABELS, SCORES, WEIGHTS) == (
        pytest.approx(expected))


@pytest.mark.parametrize("threshold", [0.5, 0.7])
def test_binary_accuracy_counts_thresholded_matches(threshold):
    probs = rng.uniform(size=(N, 3))
    y = (rng.uniform(size=(N, 3)) > 0.5).astype(float)
    expected = ((probs > threshold) == y).mean()
    assert result_of(metrics.BinaryAccuracy(threshold), y, probs) == pytest.approx(expected)


def test_binary_accuracy_with_flat_labels_for_one_unit_output():
    probs = rng.uniform(size=(N, 1))
    y = (rng.uniform(size=N) > 0.5).astype(float)
    expected = ((probs[:, 0] > 0.5) == y).mean()
    assert result_of(metrics.BinaryAccuracy(), y, probs) == pytest.approx(expected)


def _np_top_k(scores, labels, k):
    # Hit when fewer than k classes score strictly higher than the label.
    higher = (scores > scores[np.arange(len(labels)), labels][:, None]).sum(1)
    return (higher < k).mean()


@pytest.mark.parametrize("k", [1, 2, 5, 10])
def test_top_k_accuracies(k):
    expected = _np_top_k(SCORES, LABELS, k)
    assert result_of(metrics.SparseTopKCategoricalAccuracy(k), LABELS, SCORES) == pytest.approx(
        expected)
    assert result_of(metrics.TopKCategoricalAccuracy(k), ONEHOT, SCORES) == pytest.approx(expected)


def test_top_k_counts_ties_at_the_boundary_as_hits():
    scores = np.array([[0.5, 0.2, 0.2, 0.1]])
    assert result_of(metrics.SparseTopKCategoricalAccuracy(k=2), np.array([2]), scores) == 1.0


def test_accuracy_is_exact_equality():
    y, p = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 2.0, 0.0, 4.0])
    assert result_of(metrics.Accuracy(), y, p) == 0.75


def test_regression_metrics():
    yt, yp = rng.normal(size=(N, 3)), rng.normal(size=(N, 3))
    assert result_of(metrics.MeanSquaredError(), yt, yp) == pytest.approx(((yt - yp) ** 2).mean())
    assert result_of(metrics.MeanAbsoluteError(), yt, yp, WEIGHTS) == pytest.approx(
        (np.abs(yt - yp).mean(1) * WEIGHTS).sum() / WEIGHTS.sum())


def test_streaming_over_batches_equals_one_pass():
    one_pass = result_of(metrics.SparseCategoricalAccuracy(), LABELS, SCORES, WEIGHTS)
    streamed = metrics.SparseCategoricalAccuracy()
    for lo, hi in [(0, 7), (7, 20), (20, 33), (33, N)]:
        streamed.update_state(T(LABELS[lo:hi]), T(SCORES[lo:hi]), T(WEIGHTS[lo:hi]))
    assert streamed.result() == pytest.approx(one_pass)


def test_reset_state_and_empty_result():
    m = metrics.CategoricalAccuracy()
    assert m.result() == 0.0
    m.update_state(T(ONEHOT), T(SCORES))
    m.reset_state()
    assert m.result() == 0.0
    m.update_state(T(ONEHOT[:1]), T(ONEHOT[:1]))
    assert m.result() == 1.0


def test_mean_tracks_batch_losses_weighted_by_batch_size():
    m = metrics.Mean(name="loss")
    for value, size in [(2.0, 32), (1.0, 32), (4.0, 8)]:
        m.update_state(T(value), size)
    assert m.result() == pytest.approx((2 * 32 + 1 * 32 + 4 * 8) / 72)
    m2 = metrics.Mean()
    m2.update_state(T([1.0, 3.0, 5.0, 7.0]), T([1.0, 1.0, 0.0, 0.0]))
    assert m2.result() == 2.0  # Keras's docstring example


def test_calling_a_metric_updates_and_returns_result():
    m = metrics.Accuracy()
    assert m(T([1.0, 2.0]), T([1.0, 0.0])) == 0.5
    assert m(T([1.0, 2.0]), T([1.0, 2.0])) == 0.75


def test_state_is_detached_torch_tensors():
    m = metrics.MeanSquaredError()
    pred = T(SCORES, requires_grad=True)
    m.update_state(T(ONEHOT), pred)
    assert isinstance(m.total, torch.Tensor) and not m.total.requires_grad
    assert isinstance(m.result(), float)


def test_precision_and_recall_against_counts():
    probs = rng.uniform(size=(N, 3))
    y = (rng.uniform(size=(N, 3)) > 0.5).astype(float)
    pred = probs > 0.5
    w = WEIGHTS[:, None]
    tp, fp, fn = ((pred & (y == 1)) * w).sum(), ((pred & (y == 0)) * w).sum(), \
        ((~pred & (y == 1)) * w).sum()
    assert result_of(metrics.Precision(), y, probs, WEIGHTS) == pytest.approx(tp / (tp + fp))
    assert result_of(metrics.Recall(), y, probs, WEIGHTS) == pytest.approx(tp / (tp + fn))
    col = 1
    tp1 = (pred[:, col] & (y[:, col] == 1)).sum()
    assert result_of(metrics.Recall(class_id=col), y, probs) == pytest.approx(
        tp1 / y[:, col].sum())


def test_precision_top_k_counts_only_the_top_scores():
    probs = np.array([[0.9, 0.8, 0.1], [0.2, 0.3, 0.4]])
    y = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    # top-1 predictions: class 0 (correct) and class 2 (correct).
    assert result_of(metrics.Precision(top_k=1), y, probs) == 1.0
    assert result_of(metrics.Precision(), y, probs) == pytest.approx(1 / 2)


# --- get and 'accuracy' resolution ----------------------------------------------------------


@pytest.mark.parametrize(
    "loss, output_shape, cls",
    [
        ("sparse_categorical_crossentropy", (None, 10), metrics.SparseCategoricalAccuracy),
        ("categorical_crossentropy", (None, 10), metrics.CategoricalAccuracy),
        ("binary_crossentropy", (None, 1), metrics.BinaryAccuracy),
        ("binary_crossentropy", (None, 5), metrics.BinaryAccuracy),
        (losses.SparseCategoricalCrossentropy(from_logits=True), None,
         metrics.SparseCategoricalAccuracy),
        ("mse", (None, 1), metrics.BinaryAccuracy),
    ],
)
@pytest.mark.parametrize("name", ["accuracy", "acc"])
def test_accuracy_resolution_table(loss, output_shape, cls, name):
    m = metrics.get(name, loss=loss, output_shape=output_shape)
    assert type(m) is cls
    assert m.name == name


@pytest.mark.parametrize(
    "y_true, y_pred, expected",
    [
        (LABELS, SCORES, (SCORES.argmax(1) == LABELS).mean()),
        (ONEHOT, SCORES, (SCORES.argmax(1) == LABELS).mean()),
        ((LABELS % 2).astype(float), rng.uniform(size=(N, 1)), None),
    ],
    ids=["sparse", "one-hot", "binary"],
)
def test_accuracy_without_loss_resolves_from_first_batch_shapes(y_true, y_pred, expected):
    if expected is None:
        expected = ((y_pred[:, 0] > 0.5) == y_true).mean()
    m = metrics.get("accuracy", loss="mse")
    assert result_of(m, y_true, y_pred) == pytest.approx(expected)
    assert m.name == "accuracy"


@pytest.mark.parametrize(
    "name, cls",
    [("top_k_categorical_accuracy", metrics.TopKCategoricalAccuracy),
     ("sparse_top_k_categorical_accuracy", metrics.SparseTopKCategoricalAccuracy),
     ("mse", metrics.MeanSquaredError), ("mae", metrics.MeanAbsoluteError),
     ("binary_accuracy", metrics.BinaryAccuracy), ("Precision", metrics.Precision),
     ("recall", metrics.Recall)],
)
def test_get_metric_names_keep_the_given_name(name, cls):
    m = metrics.get(name)
    assert type(m) is cls and m.name == name


def test_loss_name_as_metric_reports_mean_loss():
    m = metrics.get("categorical_crossentropy")
    assert m.name == "categorical_crossentropy"
    probs = activations.softmax(T(SCORES))
    m.update_state(T(ONEHOT[:20]), probs[:20])
    m.update_state(T(ONEHOT[20:]), probs[20:])
    e = np.exp(SCORES - SCORES.max(1, keepdims=True))
    expected = -np.log((e / e.sum(1, keepdims=True))[np.arange(N), LABELS]).mean()
    assert m.result() == pytest.approx(expected)


def test_callables_and_instances():
    def half_error(y_true, y_pred):
        return 0.5 * (y_true - y_pred).abs()

    m = metrics.get(half_error)
    assert m.name == "half_error"
    assert result_of(m, np.array([1.0, 3.0]), np.array([0.0, 0.0])) == 1.0
    inst = metrics.BinaryAccuracy(threshold=0.3)
    assert metrics.get(inst) is inst
    assert metrics.get({"class_name": "BinaryAccuracy", "config": {"threshold": 0.3}}
                       ).get_config() == inst.get_config()
    loss_metric = metrics.get(losses.MeanSquaredError())
    assert loss_metric.name == "mean_squared_error"


def test_get_errors():
    with pytest.raises(ValueError, match="Unknown metric 'acuracy'"):
        metrics.get("acuracy")
    with pytest.raises(TypeError, match="metric must be"):
        metrics.get(5)
    with pytest.raises(TypeError, match="thresholds must be a single number"):
        metrics.Precision(thresholds=[0.3, 0.5])
