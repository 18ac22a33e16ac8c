"""The cats-vs-dogs workflow (examples/cats_vs_dogs.py) end to end on a synthetic image folder.

"Cats" are bright discs and "dogs" dark squares on a noisy gray background, saved as real JPEG
(train) and PNG (validation) files, 20 per class per split, 64x64, so both loaders, the frozen
head phase, fine-tuning, saving and predicting run in seconds with the small base.
"""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from cnnlab.keras.applications.vgg16 import preprocess_input
from cnnlab.layers import ImageNetPreprocessing

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cats_vs_dogs.py"
SIZE = 64
PER_CLASS = 20
# Validation accuracy after 6 head epochs + 2 fine-tuning epochs, measured for seeds 0-4:
# image_dataset_from_directory 1.00/0.875/0.95/1.00/0.95, flow_from_directory
# 1.00/0.775/0.875/1.00/0.925; chance is 0.5. The tests use seed 0; the bound sits below the
# worst seed so that a harmless numeric change does not fail them.
MIN_ACCURACY = 0.75


def load_example():
    spec = importlib.util.spec_from_file_location("cats_vs_dogs", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("cats_vs_dogs", module)
    spec.loader.exec_module(module)
    return module


cvd = load_example()


def draw(kind: str, rng: np.random.Generator) -> Image.Image:
    """A bright disc ('cats') or a dark square ('dogs') at a random place and size."""
    background = rng.normal(128, 20, (SIZE, SIZE, 3)).clip(0, 255).astype("uint8")
    image = Image.fromarray(background)
    r = int(rng.integers(8, 16))
    cx, cy = rng.integers(r + 2, SIZE - r - 2, size=2)
    box = (int(cx - r), int(cy - r), int(cx + r), int(cy + r))
    pen = ImageDraw.Draw(image)
    if kind == "cats":
        pen.ellipse(box, fill=tuple(int(v) for v in rng.integers(220, 256, 3)))
    else:
        pen.rectangle(box, fill=tuple(int(v) for v in rng.integers(0, 40, 3)))
    return image


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cats_vs_dogs")
    rng = np.random.default_rng(0)
    for split, suffix in (("train", "jpg"), ("validation", "png")):
        for kind in ("cats", "dogs"):
            (root / split / kind).mkdir(parents=True)
            for i in range(PER_CLASS):
                draw(kind, rng).save(root / split / kind / f"{kind[:-1]}.{i}.{suffix}")
    return root


def weights_of(base, prefix: str = "") -> list[np.ndarray]:
    return [w for layer in base.layers if layer.name.startswith(prefix)
            for w in layer.get_weights()]


def same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def validation_images(val) -> np.ndarray:
    """All validation images: a DirectoryIterator (like Keras's) repeats forever when iterated,
    so it is read by index; the dataset is iterated once."""
    batches = (val[i] for i in range(len(val))) if hasattr(val, "__getitem__") else val
    return np.concatenate([np.asarray(batch[0]) for batch in batches])


@pytest.mark.parametrize("loader", ["dataset", "generator"])
def test_workflow_end_to_end(folder, tmp_path, loader):
    cvd.set_random_seed(0)
    train, val = cvd.load_folders(folder, SIZE, batch_size=8, loader=loader)
    base = cvd.build_base("small", SIZE)
    model = cvd.build_model(base, SIZE)
    frozen = weights_of(base)

    cvd.train_head(model, base, train, val, epochs=6, verbose=0)
    assert same(weights_of(base), frozen), "the frozen base changed while training the head"

    block = cvd.last_block(base)
    assert block == "block3"
    lower, top = weights_of(base, "block1") + weights_of(base, "block2"), weights_of(base, block)
    cvd.fine_tune(model, base, train, val, epochs=2, learning_rate=1e-4, verbose=0)
    assert not any(np.array_equal(a, b)
                   for a, b in zip(weights_of(base, block), top, strict=True))
    assert same(weights_of(base, "block1") + weights_of(base, "block2"), lower)

    accuracy = model.evaluate(val, verbose=0)[1]
    assert accuracy >= MIN_ACCURACY

    x_val = validation_images(val)
    path = tmp_path / "cats_vs_dogs.cnnlab"
    model.save(path)
    restored = cvd.load_model(path)
    expected = model.predict(x_val, verbose=0)
    np.testing.assert_allclose(restored.predict(x_val, verbose=0), expected, atol=1e-5)

    one = sorted((folder / "validation" / "dogs").iterdir())[0]
    pixels = np.asarray(Image.open(one).convert("RGB"), dtype="float32")[None]
    probability = cvd.predict_image(restored, one, SIZE)
    assert 0.0 <= probability <= 1.0
    assert probability == pytest.approx(float(model.predict(pixels, verbose=0)[0, 0]), abs=1e-5)


def test_main_runs_the_command_line_workflow(folder, tmp_path):
    output = tmp_path / "model.cnnlab"
    result = cvd.main([str(folder), "--base", "small", "--image-size", str(SIZE), "--epochs",
                       "3", "--loader", "generator", "--learning-rate", "1e-4", "--output",
                       str(output), "--batch-size", "8"])
    assert output.is_file()
    assert result["fine_tuned"] >= MIN_ACCURACY
    assert result["probability"] > 0.5  # the first validation dog is called a dog


def test_small_base_weights_load_from_a_file(tmp_path):
    source = cvd.small_base(SIZE)
    path = tmp_path / "base.weights.h5"
    source.save_weights(path)
    loaded = cvd.build_base("small", SIZE, str(path))
    assert same(weights_of(loaded), weights_of(source))


def test_vgg16_model_builds_with_its_preprocessing():
    base = cvd.build_base("vgg16", 32)
    model = cvd.build_model(base, 32, pooling="avg", preprocessing="caffe")
    assert cvd.last_block(base) == "block5"
    pixels = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    preprocessing = next(layer for layer in model.layers
                         if isinstance(layer, ImageNetPreprocessing))
    np.testing.assert_allclose(preprocessing(pixels).numpy(), preprocess_input(pixels),
                               atol=1e-4)
    probabilities = model.predict(pixels, verbose=0)
    assert probabilities.shape == (2, 1)
    assert np.all((probabilities >= 0) & (probabilities <= 1))
