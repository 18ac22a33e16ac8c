"""Public Keras tutorial programs run with only their imports changed (see programs/).

Each program is run as a script in a temporary folder, with ``tutorial_harness`` importable and
``TUTORIAL_EPOCHS`` / ``TUTORIAL_STEPS`` / ``TUTORIAL_SCALE`` shortening the run. The checks are
on what the program printed and wrote: the parameter counts the book/notebook shows (or computed
here from the layer formulas), shapes, files (and that saved models load), and accuracy above
chance where the stand-in data is learnable. Programs that continue an earlier notebook (5.3 and
5.4 after 5.2; 8.3 and 9.4 after 8.2) run in the folder the earlier one left.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
HARNESS = Path(__file__).resolve().parent  # tutorial_harness.py (data stand-ins, short runs)
PROGRAMS = HARNESS / "programs"
FASHION = Path("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")


def run(name: str, folder: Path, timeout: int = 600, **settings: float) -> str:
    """Run ``programs/<name>`` in ``folder``; ``settings``: TUTORIAL_EPOCHS=..., ..."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(HARNESS)]),
           "MPLBACKEND": "Agg", "KERAS_HOME": str(folder / "keras_home"),
           "CNNLAB_OFFLINE": "1", **{k: str(v) for k, v in settings.items()}}
    done = subprocess.run([sys.executable, str(PROGRAMS / name)], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, (f"{name} failed:\n{done.stdout[-3000:]}\n"
                                  f"{done.stderr[-4000:]}")
    return done.stdout


def totals(out: str) -> list[str]:
    return re.findall(r"^Total params: ([\d,]+)", out, re.M)


def value(out: str, label: str) -> float:
    """The number printed after ``label`` on its last occurrence."""
    return float(re.findall(re.escape(label) + r"\s*([-\d.e]+)", out)[-1])


def needs_fashion_mnist() -> None:
    if not FASHION.exists():
        pytest.skip("Fashion-MNIST files not installed (the MNIST stand-in reads them)")


def load(path: Path):
    from cnnlab.keras.models import load_model

    return load_model(str(path))


# ------------------------------------------------------------------------- DLwP 1st edition
def test_dlwp1_5_1_introduction_to_convnets(tmp_path):
    needs_fashion_mnist()
    out = run("dlwp1_5_1_introduction_to_convnets.py", tmp_path, TUTORIAL_EPOCHS=2,
              TUTORIAL_SCALE=0.05)
    assert totals(out) == ["55,744", "93,322"]  # the notebook's two summaries
    for row in (r"conv2d \(Conv2D\)\s+\(None, 26, 26, 32\)\s+320",
                r"conv2d_2 \(Conv2D\)\s+\(None, 3, 3, 64\)\s+36928",
                r"flatten \(Flatten\)\s+\(None, 576\)\s+0",
                r"dense \(Dense\)\s+\(None, 64\)\s+36928"):
        assert re.search(row, out), row
    assert value(out, "test_acc:") > 0.5  # 10 classes: chance is 0.1 (measured 0.70-0.74)


@pytest.mark.slow
def test_dlwp1_5_2_using_convnets_with_small_datasets(dlwp1_folder):
    folder, out = dlwp1_folder
    for line in ("total training cat images: 1000", "total validation dog images: 500",
                 "total test cat images: 500", "Found 2000 images belonging to 2 classes.",
                 "data batch shape: (20, 150, 150, 3)", "labels batch shape: (20,)"):
        assert line in out
    assert totals(out) == ["3,453,121"]
    assert re.search(r"- loss: [\d.]+ - acc: [\d.]+ - val_loss: [\d.]+ - val_acc: [\d.]+", out)
    for name in ("cats_and_dogs_small_1.h5", "cats_and_dogs_small_2.h5"):
        assert load(folder / name).count_params() == 3_453_121


@pytest.mark.slow
def test_dlwp1_5_3_using_a_pretrained_convnet(dlwp1_folder):
    folder, _ = dlwp1_folder
    out = run("dlwp1_5_3_using_a_pretrained_convnet.py", folder, TUTORIAL_EPOCHS=1,
              TUTORIAL_STEPS=1, TUTORIAL_SCALE=0.02)
    assert totals(out) == ["14,714,688", "16,812,353", "14,714,688"]
    assert "before freezing the conv base: 30" in out  # the book's numbers
    assert "after freezing the conv base: 4" in out
    assert re.search(r"Trainable params: 0\nNon-trainable params: 14,714,688", out)
    assert 0 <= value(out, "test acc:") <= 1
    assert load(folder / "cats_and_dogs_small_4.h5").count_params() == 16_812_353


@pytest.mark.slow
def test_dlwp1_5_4_visualizing_what_convnets_learn(dlwp1_folder):
    folder, _ = dlwp1_folder
    out = run("dlwp1_5_4_visualizing_what_convnets_learn.py", folder, TUTORIAL_STEPS=1)
    assert "(1, 150, 150, 3)\n(1, 148, 148, 32)" in out  # input and first activation
    predicted = re.search(r"Predicted: \[\('n\d{8}', '\w+', [\d.e-]+\), .*\)\]", out)
    assert predicted and predicted.group(0).count("('n") == 3
    assert "heatmap: (300, 400, 3) superimposed: (300, 400, 3)" in out
    with Image.open(folder / "elephant_cam.jpg") as cam:
        assert cam.size == (400, 300)


# ------------------------------------------------------------------------- DLwP 2nd edition
def test_dlwp2_ch08_1_intro_to_convnets(tmp_path):
    needs_fashion_mnist()
    out = run("dlwp2_ch08_1_intro_to_convnets.py", tmp_path, TUTORIAL_EPOCHS=2,
              TUTORIAL_SCALE=0.05)
    assert totals(out) == ["104,202", "712,202"]  # with and without max pooling (book)
    assert value(out, "Test accuracy:") > 0.5


def test_dlwp2_ch08_2_training_from_scratch(ch08_folder):
    folder, out = ch08_folder
    assert totals(out) == ["991,041"]
    assert out.count("Found 40 files belonging to 2 classes.") == 2
    assert "Found 20 files belonging to 2 classes." in out
    shapes = re.findall(r"^torch\.Size\((\[[\d, ]+\])\)$", out, re.M)
    assert shapes == ["[16]"] * 3 + ["[32, 16]"] * 3 + ["[4, 4]"] * 3  # the tf.data cells
    assert "data batch shape: torch.Size([32, 180, 180, 3])" in out
    assert "labels batch shape: torch.Size([32])" in out
    accuracies = re.findall(r"Test accuracy: ([\d.]+)", out)
    assert len(accuracies) == 2 and all(0 <= float(a) <= 1 for a in accuracies)
    for name in ("convnet_from_scratch.keras", "convnet_from_scratch_with_augmentation.keras"):
        assert load(folder / name).count_params() == 991_041


@pytest.mark.slow
def test_dlwp2_ch08_3_pretrained_model(ch08_folder):
    folder, _ = ch08_folder
    out = run("dlwp2_ch08_3_pretrained_model.py", folder, TUTORIAL_EPOCHS=1)
    assert totals(out)[0] == "14,714,688"
    assert "train_features.shape: (40, 5, 5, 512)" in out
    assert "before freezing the conv base: 26" in out  # the book's numbers
    assert "after freezing the conv base: 0" in out
    assert len(re.findall(r"Test accuracy: ([\d.]+)", out)) == 2
    for name in ("feature_extraction.keras", "feature_extraction_with_data_augmentation.keras",
                 "fine_tuning.keras"):
        assert (folder / name).is_file()


def _mini_xception_params() -> tuple[int, int]:
    """(total, non-trainable) of the chapter-9 mini Xception, from the layer formulas."""
    total, frozen, c_in = 5 * 5 * 3 * 32 + 32, 0, 32
    for s in (32, 64, 128, 256, 512):
        bn = 4 * c_in + 4 * s  # gamma, beta, moving mean, moving variance
        sep = (9 * c_in + c_in * s + s) + (9 * s + s * s + s)
        total += bn + sep + c_in * s + s  # + the 1x1 residual projection
        frozen += 2 * c_in + 2 * s
        c_in = s
    return total + 512 + 1, frozen


def test_dlwp2_ch09_2_convnet_architecture_patterns(tmp_path):
    out = run("dlwp2_ch09_2_convnet_architecture_patterns.py", tmp_path)
    assert "projection residual: (None, 30, 30, 64)" in out
    assert "strided residual: (None, 15, 15, 64)" in out
    residual_model = sum((9 * i + 1) * f + (9 * f + 1) * f + (i + 1) * f
                         for i, f in ((3, 32), (32, 64), (64, 128))) + 128 + 1
    total, frozen = _mini_xception_params()
    assert totals(out) == [f"{residual_model:,}", f"{total:,}"]  # 297,697 and 724,865
    assert f"Non-trainable params: {frozen:,}" in out


def test_dlwp2_ch09_3_interpreting_what_convnets_learn(ch08_folder):
    folder, _ = ch08_folder
    out = run("dlwp2_ch09_3_interpreting_what_convnets_learn.py", folder, TUTORIAL_STEPS=1)
    assert "(1, 178, 178, 32)" in out  # first activation of the chapter-8 model
    names = re.findall(r"^((?:block\d+_(?:sep)?conv\d)|conv2d(?:_\d+)?)$", out, re.M)
    assert len(names) == 40 and names[:5] == ["block1_conv1", "block1_conv2",
                                              "block2_sepconv1", "block2_sepconv2", "conv2d"]
    assert out.count("Processing filter") == 64
    with Image.open(folder / "filters_for_layer_block3_sepconv1.png") as grid:
        assert grid.size == (8 * 150 + 7 * 5,) * 2
    assert re.search(r"\[\('n\d{8}', '\w+', [\d.e-]+\), ", out)  # decode_predictions
    assert "heatmap: (10, 10) grads: (1, 10, 10, 2048)" in out
    with Image.open(folder / "elephant_cam.jpg") as cam:
        assert cam.size == (400, 300)


# ------------------------------------------------------------------------- keras.io / TF
def test_kerasio_mnist_convnet(tmp_path):
    needs_fashion_mnist()
    out = run("kerasio_mnist_convnet.py", tmp_path, TUTORIAL_EPOCHS=2, TUTORIAL_SCALE=0.05)
    assert "x_train shape: (3000, 28, 28, 1)\n3000 train samples\n500 test samples" in out
    assert totals(out) == ["34,826"]  # keras.io's summary
    assert re.search(r"val_loss: [\d.]+ - val_accuracy: [\d.]+", out)  # validation_split
    assert value(out, "Test accuracy:") > 0.5


def _small_xception_params() -> int:
    total = (27 * 32 + 32) + 4 * 32 + (9 * 32 * 64 + 64) + 4 * 64
    c_in = 64
    for s in (128, 256, 512, 728):
        total += (9 * c_in + c_in * s + s) + 4 * s + (9 * s + s * s + s) + 4 * s
        total += c_in * s + s
        c_in = s
    return total + (9 * 728 + 728 * 1024 + 1024) + 4 * 1024 + 1024 + 1


def test_kerasio_image_classification_from_scratch(tmp_path):
    out = run("kerasio_image_classification_from_scratch.py", tmp_path, TUTORIAL_EPOCHS=1,
              TUTORIAL_SCALE=0.001)
    assert "Deleted 2 images" in out  # the two files without a JFIF header
    assert "Found 25 files belonging to 2 classes.\nUsing 20 files for training." in out
    assert "Using 5 files for validation." in out
    assert value(out, "params:") == _small_xception_params() == 2_782_649
    assert (tmp_path / "model.png").stat().st_size > 1000  # keras.utils.plot_model
    dog = re.search(r"This image is ([\d.]+) percent cat and ([\d.]+) percent dog\.", out)
    assert dog and float(dog.group(1)) + float(dog.group(2)) == pytest.approx(100, abs=0.02)
    from cnnlab.keras.preprocessing import image

    model = load(tmp_path / "save_at_1.h5")  # ModelCheckpoint after the only epoch
    x = image.img_to_array(image.load_img(tmp_path / "PetImages/Cat/6779.jpg",
                                          target_size=(180, 180)))
    score = float(model.predict(x[None], verbose=0)[0, 0])
    assert 100 * score == pytest.approx(float(dog.group(2)), abs=0.01)


def test_tf_tutorial_cnn_cifar10(tmp_path):
    out = run("tf_tutorial_cnn_cifar10.py", tmp_path, TUTORIAL_EPOCHS=2, TUTORIAL_SCALE=0.04)
    assert totals(out) == ["56,320", "122,570"]  # the tutorial's two summaries
    assert "Epoch 2/2" in out
    assert re.search(r"^63/63 \[=+\] .* - val_accuracy: [\d.]+$", out, re.M)
    assert re.search(r"^13/13 - \d+s - loss: [\d.e-]+ - accuracy: [\d.]+", out, re.M)  # verbose=2
    assert float(out.strip().splitlines()[-1]) > 0.3  # 10 classes: chance is 0.1


# ------------------------------------------------------------------------- shared folders
@pytest.fixture(scope="module")
def dlwp1_folder(tmp_path_factory):
    """Notebook 5.2 run once; 5.3 and 5.4 continue in its folder, as in the book."""
    folder = tmp_path_factory.mktemp("dlwp1")
    out = run("dlwp1_5_2_using_convnets_with_small_datasets.py", folder, TUTORIAL_EPOCHS=2,
              TUTORIAL_STEPS=2)
    return folder, out


@pytest.fixture(scope="module")
def ch08_folder(tmp_path_factory):
    """Section 8.2 run once; 8.3 and 9.4 continue in its folder, as in the book."""
    folder = tmp_path_factory.mktemp("ch08")
    out = run("dlwp2_ch08_2_training_from_scratch.py", folder, TUTORIAL_EPOCHS=1,
              TUTORIAL_SCALE=0.02)
    return folder, out


def test_harness_changes_are_marked():
    """Every program names its source and marks each line that is not the tutorial's."""
    for program in PROGRAMS.glob("*.py"):
        text = program.read_text()
        assert "Source: https://github.com/" in text, program.name
        for line in text.splitlines():
            if "harness." in line or "import tutorial_harness" in line:
                assert "# cnnlab harness" in line, f"{program.name}: {line}"
        assert np.all([not line.startswith(("import tensorflow", "from tensorflow",
                                            "from keras", "import keras"))
                       for line in text.splitlines()]), program.name
