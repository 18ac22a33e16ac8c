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
    """load_model of a Keras 2 HDF5 file explains that only weights are read, naming the
    function; model.load_weights reads such a file itself."""
    fake = tmp_path / "keras_model.h5"
    fake.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(64))
    model = Sequential([Input((3,)), Dense(2)])
    with pytest.raises(ValueError, match="HDF5 file, as Keras 2 writes") as from_load_model:
        load_model(fake)
    assert callable(named_function(str(from_load_model.value)))
    with pytest.raises(ValueError, match="keras_model.h5 is not a readable HDF5 file"):
        model.load_weights(str(fake))
    h5py = pytest.importorskip("h5py")
    from cnnlab.io.keras_weights import save_keras_h5

    source = Sequential([Input((3,)), Dense(2)])
    save_keras_h5(source, tmp_path / "real.h5")
    assert h5py.is_hdf5(tmp_path / "real.h5")
    with pytest.raises(ValueError, match="HDF5 file, as Keras 2 writes") as info:
        load_model(tmp_path / "real.h5")
    named_function(str(info.value))(model, tmp_path / "real.h5")   # the hint, followed
    for a, b in zip(model.get_weights(), source.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    other = Sequential([Input((3,)), Dense(2)])
    other.load_weights(str(tmp_path / "real.h5"))                  # or load_weights directly
    for a, b in zip(other.get_weights(), source.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
