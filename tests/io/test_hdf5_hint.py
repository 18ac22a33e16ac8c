"""A Keras HDF5 file given to load_model/load_weights: the error names a function that exists
and that loads the file."""

import importlib
import re

import numpy as np
import pytest

from cnnlab.io import load_model
from cnnlab.layers import Dense, Input
from cnnlab.models import Sequential


def named_function(message):
    dotted = re.search(r"(cnnlab(?:\.\w+)+)\(model, path\)", message).group(1)
    module, name = dotted.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


def test_hdf5_hint_names_the_keras_weights_loader(tmp_path):
    fake = tmp_path / "keras_model.h5"
    fake.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(64))
    model = Sequential([Input((3,)), Dense(2)])
    with pytest.raises(ValueError, match="HDF5 file, as Keras 2 writes") as from_load_model:
        load_model(fake)
    with pytest.raises(ValueError, match="build the model in code") as from_load_weights:
        model.load_weights(str(fake))
    for info in (from_load_model, from_load_weights):
        assert callable(named_function(str(info.value)))
    h5py = pytest.importorskip("h5py")
    from cnnlab.io.keras_weights import save_keras_h5

    source = Sequential([Input((3,)), Dense(2)])
    save_keras_h5(source, tmp_path / "real.h5")
    assert h5py.is_hdf5(tmp_path / "real.h5")
    with pytest.raises(ValueError) as info:
        model.load_weights(str(tmp_path / "real.h5"))
    named_function(str(info.value))(model, tmp_path / "real.h5")   # the hint, followed
    for a, b in zip(model.get_weights(), source.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
