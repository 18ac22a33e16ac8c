"""cnnlab.tf: tensor functions against NumPy, GradientTape against plain torch autograd
(custom training loop, saliency, persistent/nested tapes), optimizer.apply_gradients, and the
Keras backend's get_value/set_value."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlab import tf
from cnnlab.keras import backend as K
from cnnlab.keras import callbacks, layers, losses, models, optimizers


# ----------------------------------------------------------------------------- tensor functions
def test_constants_dtypes_and_conversions_follow_tensorflow():
    assert tf.float32 is torch.float32 and tf.int64 is torch.int64 and tf.bool is torch.bool
    assert tf.constant([1, 2]).dtype == torch.int32          # Python ints -> int32
    assert tf.constant([1.0, 2]).dtype == torch.float32      # Python floats -> float32
    assert tf.constant(np.zeros(2)).dtype == torch.float64   # NumPy dtype kept
    assert tf.constant(3.0, shape=(2, 2)).tolist() == [[3.0, 3.0], [3.0, 3.0]]
    assert tf.constant([1, 2], dtype="float32").dtype == torch.float32
    array = np.arange(4, dtype=np.float32)
    shared = tf.convert_to_tensor(array)
    array[0] = 9.0
    assert shared[0] == 9.0                                  # no copy
    t = torch.ones(2)
    assert tf.convert_to_tensor(t) is t
    assert tf.ones((2, 3)).dtype == torch.float32 and tf.zeros([4], dtype=tf.int64).sum() == 0
    np.testing.assert_array_equal(tf.cast(tf.constant([1.7, -1.7]), tf.int32).numpy(), [1, -1])
    with pytest.raises(TypeError, match="unknown dtype 'float33'"):
        tf.cast(t, "float33")


def test_reductions_and_element_wise_functions_match_numpy():
    x = np.random.default_rng(0).normal(size=(2, 3, 4)).astype(np.float32)
    t = tf.constant(x)
    for name, ref in (("reduce_mean", np.mean), ("reduce_sum", np.sum), ("reduce_max", np.max),
                      ("reduce_min", np.min)):
        fn = getattr(tf, name)
        np.testing.assert_allclose(fn(t).numpy(), ref(x), rtol=1e-5)
        np.testing.assert_allclose(fn(t, axis=1).numpy(), ref(x, axis=1), rtol=1e-5)
        np.testing.assert_allclose(fn(t, axis=(0, 2), keepdims=True).numpy(),
                                   ref(x, axis=(0, 2), keepdims=True), rtol=1e-5)
    assert tf.math.reduce_max is tf.reduce_max
    np.testing.assert_array_equal(tf.argmax(t).numpy(), np.argmax(x, axis=0))  # None -> 0
    np.testing.assert_array_equal(tf.argmax(t, axis=-1).numpy(), np.argmax(x, axis=-1))
    assert tf.argmax(t, axis=1).dtype == torch.int64
    np.testing.assert_array_equal(tf.reduce_mean(tf.constant([1, 2])).numpy(), 1)  # int mean
    assert tf.reduce_sum(tf.constant([1, 2])).dtype == torch.int32
    np.testing.assert_allclose(tf.square(t).numpy(), x ** 2, rtol=1e-6)
    np.testing.assert_allclose(tf.maximum(t, 0).numpy(), np.maximum(x, 0))
    np.testing.assert_array_equal(tf.reshape(t, [-1, 4]).numpy(), x.reshape(-1, 4))
    np.testing.assert_array_equal(tf.transpose(t).numpy(), x.T)
    np.testing.assert_array_equal(tf.squeeze(tf.expand_dims(t, 0)).numpy(), x)
    np.testing.assert_allclose((t[0] @ tf.ones((4,))[..., tf.newaxis]).numpy(),
                               x[0].sum(axis=1, keepdims=True), rtol=1e-5)
    np.testing.assert_array_equal(tf.one_hot([0, 2, 5], 3).numpy(),
                                  [[1, 0, 0], [0, 0, 1], [0, 0, 0]])


# ----------------------------------------------------------------------------- GradientTape
def small_model(seed=0):
    torch.manual_seed(seed)
    return models.Sequential([layers.Input((4, 4, 1)), layers.Conv2D(2, 3, activation="relu"),
                              layers.Flatten(), layers.Dense(3, activation="softmax")])


def torch_forward(params, x):
    kernel, bias, dense_w, dense_b = params  # PyTorch layouts: (out, in, kh, kw), (out, in)
    h = F.relu(F.conv2d(x.permute(0, 3, 1, 2), kernel, bias)).permute(0, 2, 3, 1)
    return torch.softmax(h.flatten(1) @ dense_w.T + dense_b, dim=-1)


def test_custom_training_loop_equals_torch_autograd_with_keras_sgd_rule():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(8, 4, 4, 1)).astype(np.float32)
    y = rng.integers(0, 3, 8)
    model = small_model()
    params = [w.detach().clone().requires_grad_(True) for w in model.trainable_weights]
    velocity = [torch.zeros_like(p) for p in params]
    optimizer = optimizers.SGD(learning_rate=0.1, momentum=0.9)
    loss_fn = losses.SparseCategoricalCrossentropy()
    for step in range(3):
        batch = slice(4 * (step % 2), 4 * (step % 2) + 4)
        with tf.GradientTape() as tape:
            preds = model(x[batch], training=True)
            loss = loss_fn(y[batch], preds)
        grads = tape.gradient(loss, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))  # noqa: B905 (guide code)
        # the reference: plain autograd, then Keras's SGD rule m = 0.9 m - 0.1 g; w += m
        probs = torch_forward(params, torch.from_numpy(x[batch]))
        ref_loss = -torch.log(probs[torch.arange(4), torch.from_numpy(y[batch])]).mean()
        ref_grads = torch.autograd.grad(ref_loss, params)
        with torch.no_grad():
            for p, v, g in zip(params, velocity, ref_grads, strict=True):
                v.mul_(0.9).sub_(0.1 * g)
                p.add_(v)
        np.testing.assert_allclose(loss.item(), ref_loss.item(), rtol=1e-5)
    for w, p in zip(model.trainable_weights, params, strict=True):
        np.testing.assert_allclose(w.detach().numpy(), p.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert optimizer.iterations == 3
    assert all(w.grad is None for w in model.trainable_weights)  # .grad left untouched


def test_saliency_gradient_with_watch_equals_torch_autograd_grad():
    model = small_model(2)
    x = np.random.default_rng(3).normal(size=(2, 4, 4, 1)).astype(np.float32)
    image = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(image)
        score = model(image)[:, 1]
    saliency = tape.gradient(score, image)             # non-scalar target: gradient of the sum
    reference = torch.from_numpy(x.copy()).requires_grad_(True)
    expected, = torch.autograd.grad(model(reference)[:, 1].sum(), reference)
    np.testing.assert_allclose(saliency.numpy(), expected.numpy(), rtol=1e-6)
    assert saliency.shape == (2, 4, 4, 1)


def test_gradient_with_respect_to_an_intermediate_output_grad_cam_style():
    inputs = layers.Input((4, 4, 1))
    conv = layers.Conv2D(2, 3, activation="relu", name="last_conv")(inputs)
    outputs = layers.Dense(3, activation="softmax")(layers.Flatten()(conv))
    model = models.Model(inputs, outputs)
    grad_model = models.Model(model.inputs, [model.get_layer("last_conv").output, model.output])
    x = np.random.default_rng(4).normal(size=(1, 4, 4, 1)).astype(np.float32)
    with tf.GradientTape() as tape:
        conv_out, preds = grad_model(x)
        top = tf.argmax(preds[0])
        class_channel = preds[:, top]
    grads = tape.gradient(class_channel, conv_out)
    again_out, again_preds = grad_model(x)  # the reference on a fresh graph
    expected, = torch.autograd.grad(again_preds[:, top].sum(), again_out)
    np.testing.assert_allclose(grads.numpy(), expected.numpy())
    pooled = tf.reduce_mean(grads, axis=(0, 1, 2))
    np.testing.assert_allclose(pooled.numpy(), expected.numpy().mean(axis=(0, 1, 2)), rtol=1e-6)


def test_persistent_tape_structure_unconnected_and_one_shot_rule():
    x = tf.constant([1.0, 2.0, 3.0])
    other = tf.constant(5.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        tape.watch(other)
        y = tf.reduce_sum(x ** 3)
        z = x * 2.0
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), 3 * np.array([1.0, 4.0, 9.0]))
    grads = tape.gradient(z, {"x": x, "other": [other]})
    np.testing.assert_allclose(grads["x"].numpy(), [2.0, 2.0, 2.0])
    assert grads["other"] == [None]
    assert tape.gradient(z, other, unconnected_gradients="zero").item() == 0.0
    np.testing.assert_allclose(tape.gradient(z, x, output_gradients=tf.constant([1.0, 0.0, 3.0]))
                               .numpy(), [2.0, 0.0, 6.0])
    with tf.GradientTape() as once:
        once.watch(x)
        y = tf.reduce_sum(x * x)
    once.gradient(y, x)
    with pytest.raises(RuntimeError, match="only be called once on a non-persistent tape"):
        once.gradient(y, x)


def test_nested_tapes_give_second_derivatives_and_two_tapes_can_share_a_graph():
    x = tf.constant(3.0)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = x ** 3
        dy = inner.gradient(y, x)
    d2y = outer.gradient(dy, x)
    assert dy.item() == pytest.approx(27.0) and d2y.item() == pytest.approx(18.0)
    w = torch.nn.Parameter(torch.tensor([2.0]))
    v = torch.nn.Parameter(torch.tensor([3.0]))
    with tf.GradientTape() as tape_a, tf.GradientTape() as tape_b:   # DCGAN's pattern
        shared = w * v
        loss_a, loss_b = (shared ** 2).sum(), (shared * 3).sum()
    assert tape_a.gradient(loss_a, w).item() == pytest.approx(2 * 6.0 * 3.0)
    assert tape_b.gradient(loss_b, v).item() == pytest.approx(3 * 2.0)


def test_watch_accessed_variables_false_and_watch_errors():
    w = torch.nn.Parameter(torch.tensor([2.0]))
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        loss = (w * w).sum()
    assert tape.gradient(loss, [w]) == [None]
    with tf.GradientTape() as tape, pytest.raises(TypeError, match="tf.convert_to_tensor"):
        tape.watch(np.zeros(3))
    with tf.GradientTape() as tape, pytest.warns(UserWarning, match="cannot have gradients"):
        tape.watch(tf.constant([1, 2]))


# ----------------------------------------------------------------------------- apply_gradients
def test_apply_gradients_skips_none_keeps_gradients_and_adds_new_variables():
    a = torch.nn.Parameter(torch.tensor([1.0, -1.0]))
    b = torch.nn.Parameter(torch.tensor([4.0]))
    opt = optimizers.SGD(learning_rate=0.5, clipvalue=0.1)
    grad = torch.tensor([1.0, -1.0])
    with pytest.warns(UserWarning, match="gradients do not exist for 1 variable"):
        assert opt.apply_gradients([(grad, a), (None, b)]) == 1
    np.testing.assert_allclose(a.detach().numpy(), [0.95, -0.95])   # clipped to ±0.1, lr 0.5
    assert b.item() == 4.0 and grad.tolist() == [1.0, -1.0]         # caller's tensor intact
    opt.apply([torch.tensor([0.05])], [b])                          # a new variable joins
    assert b.item() == pytest.approx(4.0 - 0.025) and a.tolist() == pytest.approx([0.95, -0.95])
    with pytest.raises(ValueError, match="no gradients provided for any variable"):
        opt.apply_gradients([(None, a)])
    with pytest.raises(ValueError, match=r"gradient of shape \(3,\) .* variable of shape \(2,\)"):
        opt.apply_gradients([(torch.zeros(3), a)])
    with pytest.raises(TypeError, match=r"\(gradient, variable\) pairs"):
        opt.apply_gradients([a])


# ----------------------------------------------------------------------------- backend values
def test_get_and_set_value_on_learning_rate_and_weights():
    model = small_model()
    model.compile(optimizers.SGD(learning_rate=0.1), "sparse_categorical_crossentropy")
    x = np.zeros((2, 4, 4, 1), np.float32)
    model.train_on_batch(x, np.array([0, 1]))
    assert K.get_value(model.optimizer.lr) == pytest.approx(0.1)
    K.set_value(model.optimizer.lr, 0.001)
    assert K.get_value(model.optimizer.learning_rate) == pytest.approx(0.001)
    assert model.optimizer.torch_optimizer.param_groups[0]["lr"] == pytest.approx(0.001)
    model.optimizer.learning_rate.assign(0.002)                     # Keras 3 spelling
    assert model.optimizer.learning_rate == pytest.approx(0.002)
    kernel = model.layers[0].kernel
    K.set_value(kernel, np.ones(tuple(kernel.shape), np.float32))
    np.testing.assert_array_equal(K.get_value(kernel), np.ones(tuple(kernel.shape)))
    assert K.batch_get_value([kernel])[0].shape == tuple(kernel.shape)
    with pytest.raises(ValueError, match=r"must have the shape of `x`, \(2, 1, 3, 3\)"):
        K.set_value(kernel, np.ones(3))
    with pytest.raises(TypeError, match="a plain number cannot be changed in place"):
        K.set_value(0.1, 0.2)
    schedule = optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    with pytest.raises(TypeError, match="LearningRateSchedule"):
        K.set_value(optimizers.SGD(schedule).lr, 0.1)


def test_keras2_learning_rate_schedule_callback_with_set_value():
    class HalveEachEpoch(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            K.set_value(self.model.optimizer.lr, 0.08 * 0.5 ** epoch)

    model = small_model()
    model.compile(optimizers.SGD(learning_rate=1.0), "sparse_categorical_crossentropy")
    seen = []
    record = callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append(
            (K.get_value(model.optimizer.learning_rate),
             model.optimizer.torch_optimizer.param_groups[0]["lr"])))
    x = np.random.default_rng(5).normal(size=(8, 4, 4, 1)).astype(np.float32)
    model.fit(x, np.arange(8) % 3, epochs=3, batch_size=4, verbose=0,
              callbacks=[HalveEachEpoch(), record])
    np.testing.assert_allclose(seen, [[0.08, 0.08], [0.04, 0.04], [0.02, 0.02]])
    assert isinstance(model.optimizer.learning_rate, float)
    assert type(__import__("copy").deepcopy(model.optimizer.learning_rate)) is float
