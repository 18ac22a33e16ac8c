"""ONNX export: the exported graph computes what ``predict`` computes (onnxruntime)."""

import numpy as np
import pytest

import cnnlab
from cnnlab.layers import BatchNormalization, Conv2D, Dense, Dropout, Flatten, MaxPooling2D

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")


def test_export_matches_predict_with_dynamic_batch(tmp_path):
    from cnnlab.io.onnx import export_onnx

    model = cnnlab.Sequential([
        Conv2D(4, 3, padding="same", activation="relu", input_shape=(8, 8, 1)),
        BatchNormalization(), MaxPooling2D(2), Flatten(), Dropout(0.5),
        Dense(3, activation="softmax")])
    path = export_onnx(model, tmp_path / "m.onnx")
    session = ort.InferenceSession(str(path))
    for n in (1, 7):
        x = np.random.default_rng(n).random((n, 8, 8, 1), dtype=np.float32)
        out = session.run(None, {"input": x})[0]
        np.testing.assert_allclose(out, model.predict(x, verbose=0), atol=1e-5)


def test_export_needs_a_built_model(tmp_path):
    from cnnlab.io.onnx import export_onnx

    with pytest.raises(ValueError, match="build the model"):
        export_onnx(cnnlab.Sequential([Dense(2)]), tmp_path / "m.onnx")
