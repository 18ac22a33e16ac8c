"""tf.data-style Dataset (cnnlab.data.pipeline): element structure, lengths and order against
plain Python/NumPy; image folders get the same methods; fit/predict consume a Dataset."""

import itertools

import numpy as np
import pytest
import torch
from PIL import Image

import cnnlab
from cnnlab import tf
from cnnlab.data import AUTOTUNE, Dataset, image_dataset_from_directory
from cnnlab.keras import layers


def test_from_tensor_slices_batch_map_take_like_tf_data():
    x = np.arange(100 * 16, dtype=np.float64).reshape(100, 16)
    ds = tf.data.Dataset.from_tensor_slices(x)
    first = list(itertools.islice(ds, 3))
    assert [tuple(e.shape) for e in first] == [(16,)] * 3
    assert first[0].dtype == torch.float32  # float64 arrays become Keras's float32
    batches = list(ds.batch(32))
    assert [len(b) for b in batches] == [32, 32, 32, 4] and len(ds.batch(32)) == 4
    assert len(ds.batch(32, drop_remainder=True)) == 3
    np.testing.assert_array_equal(torch.cat(batches).numpy(), x.astype(np.float32))
    reshaped = ds.map(lambda t: tf.reshape(t, (4, 4)), num_parallel_calls=AUTOTUNE)
    assert tuple(next(iter(reshaped)).shape) == (4, 4) and len(reshaped) == 100
    assert len(ds.take(3)) == 3 and len(list(ds.take(3))) == 3
    assert len(ds.skip(98)) == 2 and list(ds.skip(98))[0][0] == x[98, 0]
    assert ds.prefetch(tf.data.AUTOTUNE) is ds


def test_tuples_are_unpacked_by_map_and_batched_per_component():
    x, y = np.ones((10, 2, 2, 1), np.float32), np.arange(10)
    ds = Dataset.from_tensor_slices((x, y)).map(lambda a, b: (a * 2, b + 1)).batch(4)
    images, labels = next(iter(ds))
    assert tuple(images.shape) == (4, 2, 2, 1) and float(images.max()) == 2.0
    assert labels.tolist() == [1, 2, 3, 4]
    kept = Dataset.from_tensor_slices((x, y)).filter(lambda a, b: b % 2 == 0)
    assert [int(b) for _, b in kept] == [0, 2, 4, 6, 8]
    with pytest.raises(TypeError, match="length is unknown"):
        len(kept)
    unbatched = list(ds.unbatch())
    assert len(unbatched) == 10 and int(unbatched[-1][1]) == 10
    dicts = Dataset.from_tensor_slices({"a": x, "b": y}).batch(5)
    assert sorted(next(iter(dicts))) == ["a", "b"]


def test_shuffle_repeat_cache_and_errors():
    ds = Dataset.range(10)
    shuffled = [int(v) for v in ds.shuffle(10, seed=1)]
    assert sorted(shuffled) == list(range(10)) and shuffled != list(range(10))
    again = ds.shuffle(10, seed=1, reshuffle_each_iteration=False)
    assert [int(v) for v in again] == [int(v) for v in again]
    assert len(ds.repeat(3)) == 30 and [int(v) for v in ds.repeat(2)][10:12] == [0, 1]
    with pytest.raises(TypeError, match="infinite"):
        len(ds.repeat())
    assert len(ds.repeat().take(25)) == 25
    calls = []
    cached = ds.map(lambda v: calls.append(1) or v).cache()
    assert list(map(int, cached)) == list(map(int, cached)) == list(range(10))
    assert len(calls) == 10  # the second pass reads the cache
    with pytest.raises(NotImplementedError, match="cache\\(\\) \\(in memory\\)"):
        ds.cache("file.tfcache")
    with pytest.raises(ValueError, match="same first dimension"):
        Dataset.from_tensor_slices((np.zeros(3), np.zeros(4)))
    with pytest.raises(ValueError, match="batch_size"):
        ds.batch(0)
    pairs = list(Dataset.zip((Dataset.range(3), Dataset.range(5))))
    assert [(int(a), int(b)) for a, b in pairs] == [(0, 0), (1, 1), (2, 2)]


def test_image_folder_dataset_has_the_pipeline_methods(tmp_path):
    for label, colour in (("cats", (200, 60, 30)), ("dogs", (30, 60, 200))):
        (tmp_path / label).mkdir()
        for i in range(3):
            Image.new("RGB", (20, 16), colour).save(tmp_path / label / f"{i}.jpg")
    ds = image_dataset_from_directory(tmp_path, image_size=(8, 8), batch_size=4, seed=0,
                                      verbose=False)
    assert len(ds.take(1)) == 1
    (images, labels), = list(ds.take(1))
    assert tuple(images.shape) == (4, 8, 8, 3) and tuple(labels.shape) == (4,)
    halved = ds.map(lambda x, y: (x / 2, y)).prefetch(AUTOTUNE)
    assert len(halved) == 2 and float(next(iter(halved))[0].max()) <= 128


def test_fit_evaluate_predict_accept_a_dataset():
    cnnlab.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)
    ds = Dataset.from_tensor_slices((x, y)).shuffle(64, seed=0).batch(16).prefetch(AUTOTUNE)
    model = cnnlab.Sequential([layers.Input((4,)), layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(ds, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert len(model.evaluate(ds, verbose=0)) == 2
    predictions = model.predict(Dataset.from_tensor_slices(x).batch(16), verbose=0)
    np.testing.assert_allclose(predictions, model.predict(x, verbose=0), rtol=1e-5)
