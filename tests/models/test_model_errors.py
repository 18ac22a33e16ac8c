"""Bad input to the model API fails early with a clear error (issue 2, item 7).

Each case asserts the exception type and the words that tell the user what was expected and
what was given; none may surface as a low-level PyTorch error.
"""

import numpy as np
import pytest

from cnnlab.layers import Add, Conv2D, Dense, Flatten, Input
from cnnlab.models import Model, Sequential


def small_cnn(loss="sparse_categorical_crossentropy", compiled=True):
    model = Sequential([Conv2D(4, 3, input_shape=(8, 8, 1)), Flatten(),
                        Dense(3, activation="softmax")])
    if compiled:
        model.compile("sgd", loss, metrics=["accuracy"])
    return model


RNG = np.random.default_rng(0)
X = RNG.random((6, 8, 8, 1)).astype("float32")
Y = RNG.integers(0, 3, 6)


def endless(x, y):
    while True:
        yield x, y


@pytest.mark.parametrize("method", ["fit", "evaluate", "predict"])
@pytest.mark.parametrize("shape", [(6, 8, 8), (6, 9, 8, 1), (6, 8, 8, 3)],
                         ids=["rank", "size", "channels"])
def test_wrong_input_shape_names_the_model_and_both_shapes(method, shape):
    model = small_cnn()
    args = (np.ones(shape, "float32"),) if method == "predict" else (np.ones(shape), Y)
    with pytest.raises(ValueError) as info:
        getattr(model, method)(*args, verbose=0)
    message = str(info.value)
    assert "Sequential 'sequential'" in message
    assert "expected input of shape (None, 8, 8, 1)" in message
    assert f"got data of shape {shape}" in message


def test_wrong_input_shape_from_a_generator_and_in_validation_data():
    model = small_cnn()
    with pytest.raises(ValueError, match=r"expected input of shape \(None, 8, 8, 1\), got data "
                                         r"of shape \(6, 8, 9, 1\)"):
        model.fit(endless(np.ones((6, 8, 9, 1)), Y), steps_per_epoch=2, verbose=0)
    with pytest.raises(ValueError, match=r"got data of shape \(6, 7, 8, 1\)"):
        model.fit(X, Y, validation_data=(np.ones((6, 7, 8, 1)), Y), verbose=0)


def test_a_later_bad_batch_gets_the_clear_message_too():
    def batches():
        yield X, Y
        yield np.ones((2, 8, 8, 2), "float32"), Y[:2]  # wrong channels in the second batch

    with pytest.raises(ValueError, match=r"Conv2D '.*': expected axis -1 of the input to have "
                                         r"size 1, got input of shape \(2, 8, 8, 2\)"):
        small_cnn().fit(batches(), verbose=0)

    def labels():
        yield X, Y
        yield X, Y + 3  # class index >= units in the second batch

    with pytest.raises(ValueError, match=r"class indices must lie in \[0, 3\)"):
        small_cnn().fit(labels(), verbose=0)


def test_a_lazily_built_model_keeps_its_input_size():
    model = Sequential([Dense(1)])
    model.compile("sgd", "mse")
    model.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0)
    with pytest.raises(ValueError, match=r"expected input of shape \(None, 3\), got data of "
                                         r"shape \(4, 5\)"):
        model.fit(np.ones((4, 5)), np.ones((4, 1)), verbose=0)


def test_several_inputs_must_all_be_given():
    a, b = Input((2,)), Input((2,))
    model = Model([a, b], Add()([a, b]))
    with pytest.raises(ValueError, match="expected 2 input arrays.*got 1"):
        model.predict(np.ones((2, 2)), verbose=0)
    with pytest.raises(ValueError, match=r"expected input 'input_2' of shape \(None, 2\), got "
                                         r"data of shape \(2, 3\)"):
        model.predict([np.ones((2, 2)), np.ones((2, 3))], verbose=0)
    with pytest.raises(ValueError, match=r"dict with keys \['input_1'\].*named "
                                         r"\['input_1', 'input_2'\]"):
        model.predict({"input_1": np.ones((2, 2))}, verbose=0)


@pytest.mark.parametrize("method", ["fit", "evaluate", "train_on_batch", "test_on_batch"])
def test_training_before_compile(method):
    with pytest.raises(RuntimeError, match=rf"call compile\(optimizer, loss, metrics\) before "
                                           rf"{method}\(\)"):
        getattr(small_cnn(compiled=False), method)(X, Y)


def test_mismatched_lengths():
    with pytest.raises(ValueError, match="`x` and `y` must have the same number of samples, "
                                         "got 6 and 5"):
        small_cnn().fit(X, Y[:5], verbose=0)
    with pytest.raises(ValueError, match="`x` and `sample_weight` .* got 6 and 3"):
        small_cnn().fit(X, Y, sample_weight=np.ones(3), verbose=0)
    a, b = Input((2,)), Input((2,))
    with pytest.raises(ValueError, match=r"all arrays in `x` must have the same number of "
                                         r"samples, got \[3, 4\]"):
        Model([a, b], Add()([a, b])).predict([np.ones((3, 2)), np.ones((4, 2))], verbose=0)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_in_x(bad):
    x = X.copy()
    x[4, 2, 3, 0] = bad
    for call in (lambda m: m.fit(x, Y, verbose=0), lambda m: m.predict(x, verbose=0)):
        with pytest.raises(ValueError, match="`x` contains NaN or infinite values "
                                             r"\(first in sample 4\)"):
            call(small_cnn())
    with pytest.raises(ValueError, match="x from .* contains NaN"):
        small_cnn().fit(endless(x, Y), steps_per_epoch=1, verbose=0)


def test_labels_that_do_not_fit_the_loss():
    with pytest.raises(ValueError, match=r"sparse_categorical_crossentropy.*labels of shape "
                                         r"\(N, 3\).*look one-hot encoded"):
        small_cnn().fit(X, np.eye(3)[Y], verbose=0)
    with pytest.raises(ValueError, match=r"categorical_crossentropy.*labels of shape \(N,\).*"
                                         r"look like integer class indices"):
        small_cnn("categorical_crossentropy").fit(X, Y, verbose=0)
    with pytest.raises(ValueError, match=r"class indices must lie in \[0, 3\).*range over "
                                         r"\[3, 5\]"):
        small_cnn().fit(X, Y + 3, verbose=0)
    with pytest.raises(ValueError, match="look one-hot encoded"):
        small_cnn().evaluate(endless(X, np.eye(3)[Y]), steps=1, verbose=0)


@pytest.mark.parametrize("kwargs,words", [
    ({"optimizer": "sgdd", "loss": "mse"}, "Unknown optimizer 'sgdd'"),
    ({"optimizer": "sgd", "loss": "mean_sqared_error"}, "Unknown loss 'mean_sqared_error'"),
    ({"optimizer": "sgd", "loss": "mse", "metrics": ["acuracy"]}, "Unknown metric 'acuracy'"),
    ({"optimizer": "sgd", "loss": ["mse", "msee"]}, "Unknown loss 'msee'"),
    ({"optimizer": "sgd", "loss": "mse", "weighted_metrics": ["acc", "nope"]},
     "Unknown metric 'nope'"),
])
def test_unknown_names_fail_in_compile(kwargs, words):
    with pytest.raises(ValueError, match=words):
        small_cnn(compiled=False).compile(**kwargs)


def test_compile_arguments_that_do_not_fit_the_outputs():
    inputs = Input((2,))
    model = Model(inputs, [Dense(1, name="a")(inputs), Dense(1, name="b")(inputs)])
    model.compile("sgd", ["mse", "mse", "mse"])
    with pytest.raises(ValueError, match=r"`loss` has 3 entries for a model with 2 outputs"):
        model.fit(np.ones((2, 2)), [np.ones((2, 1))] * 2, verbose=0)
    model.compile("sgd", {"a": "mse", "c": "mse"})
    with pytest.raises(ValueError, match=r"keys \['c'\] that are not output names"):
        model.fit(np.ones((2, 2)), [np.ones((2, 1))] * 2, verbose=0)
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="the model has 2 outputs but `y` has 1 arrays"):
        model.fit(np.ones((2, 2)), np.ones((2, 1)), verbose=0)
    with pytest.raises(ValueError, match="`class_weight` works for models with one output"):
        model.fit(np.ones((2, 2)), [np.ones((2, 1))] * 2, class_weight={0: 1.0}, verbose=0)


@pytest.mark.parametrize("kwargs,words", [
    ({"validation_split": 1.5}, r"`validation_split` must be a fraction in \[0, 1\), got 1.5"),
    ({"validation_split": -0.1}, r"`validation_split` must be a fraction in \[0, 1\)"),
    ({"validation_split": 0.9}, "leaves an empty training or validation set with 6 samples"),
    ({"batch_size": 0}, "`batch_size` must be a positive int, got 0"),
    ({"batch_size": 2.5}, "`batch_size` must be a positive int, got 2.5"),
    ({"epochs": -1}, "`epochs` must be an int >= 0, got -1"),
    ({"epochs": 2.0}, "`epochs` must be an int >= 0, got 2.0"),
    ({"initial_epoch": -1}, "`initial_epoch` must be an int >= 0, got -1"),
    ({"validation_data": (X, Y), "validation_freq": 0}, "`validation_freq` must be an int >= 1"),
    ({"validation_data": (X,)}, "`validation_data` must be"),
    ({"verbose": 3}, "`verbose` must be 0, 1, 2 or 'auto', got 3"),
    ({"class_weight": {"cat": 1.0}}, "keys of `class_weight` must be class indices"),
])
def test_bad_fit_arguments(kwargs, words):
    with pytest.raises(ValueError, match=words):
        small_cnn().fit(X, Y, **kwargs)


def test_bad_generator_arguments():
    with pytest.raises(ValueError, match="`validation_split` needs array data"):
        small_cnn().fit(endless(X, Y), steps_per_epoch=1, validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match="`y` must not be given when `x` is a generator"):
        small_cnn().fit(endless(X, Y), Y, steps_per_epoch=1, verbose=0)
    with pytest.raises(ValueError, match="`steps_per_epoch` must be an int >= 1, got 0"):
        small_cnn().fit(endless(X, Y), steps_per_epoch=0, verbose=0)
    with pytest.raises(ValueError, match="ran out of data after fewer than 3 steps"):
        small_cnn().fit(iter([(X, Y)]), steps_per_epoch=3, verbose=0)


def test_missing_targets():
    with pytest.raises(ValueError, match=r"fit: no targets; pass `y` with array `x`"):
        small_cnn().fit(X, verbose=0)
    with pytest.raises(ValueError, match="evaluate: no targets"):
        small_cnn().evaluate(iter([X]), verbose=0)


def test_arguments_of_the_wrong_type():
    with pytest.raises(TypeError, match=r"`class_weight` must be a dict \{class index: weight\}"):
        small_cnn().fit(X, Y, class_weight=[1.0, 2.0], verbose=0)
    with pytest.raises(TypeError, match="`x` must be numeric, got an array of dtype <U1"):
        small_cnn().fit(np.full((6, 8, 8, 1), "a"), Y, verbose=0)
    with pytest.raises(TypeError, match="expected Callback instances, got function"):
        small_cnn().fit(X, Y, callbacks=[lambda: None], verbose=0)


def test_set_weights_and_get_layer_errors():
    model = small_cnn()
    with pytest.raises(ValueError, match=r"expected 4 arrays with shapes \[\(3, 3, 1, 4\), "
                                         r"\(4,\), \(144, 3\), \(3,\)\], got 1"):
        model.set_weights([np.zeros((3, 3, 1, 4))])
    with pytest.raises(ValueError, match="no layer named 'dense_9'"):
        model.get_layer("dense_9")
