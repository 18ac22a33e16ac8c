"""Cats vs dogs with a pretrained convolutional base, as in Deep Learning with Python (ch. 8)
and Keras's transfer-learning guide: frozen base + new head, then fine-tuning of the last block.

The image folder is laid out as Keras expects (docs/transfer.md shows how to make it from
Kaggle's ``dogs-vs-cats/train.zip``)::

    DIR/train/cats/*.jpg  DIR/train/dogs/*.jpg  DIR/validation/cats/*.jpg  DIR/validation/dogs/*.jpg

Run::

    python examples/cats_vs_dogs.py DIR --weights vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5
    python examples/cats_vs_dogs.py DIR --base small --image-size 64 --epochs 3   # fast, random
    python examples/cats_vs_dogs.py DIR --loader generator   # ImageDataGenerator instead

Steps: load the folders (``image_dataset_from_directory`` or ``ImageDataGenerator``), build
augmentation + preprocessing + frozen base + head, train the head, unfreeze the last block and
recompile at a low learning rate, fine-tune, save, load, predict one image.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable
from pathlib import Path

from cnnlab import keras
from cnnlab.keras import layers
from cnnlab.keras.applications import VGG16, vgg16
from cnnlab.keras.models import Model, Sequential, load_model
from cnnlab.keras.optimizers import Adam
from cnnlab.keras.preprocessing.image import ImageDataGenerator, img_to_array, load_img
from cnnlab.keras.utils import image_dataset_from_directory, set_random_seed


def load_folders(root: str | os.PathLike, image_size: int, batch_size: int = 32,
                 loader: str = "dataset", seed: int = 0) -> tuple[Iterable, Iterable]:
    """(train, validation) batches of raw pixels (0..255) and binary labels (cats 0, dogs 1)."""
    root, size = Path(root), (image_size, image_size)
    if loader == "dataset":
        train = image_dataset_from_directory(root / "train", label_mode="binary",
                                             image_size=size, batch_size=batch_size, seed=seed)
        val = image_dataset_from_directory(root / "validation", label_mode="binary",
                                           image_size=size, batch_size=batch_size, shuffle=False)
        return train, val
    # The older way. No rescale/augmentation options here: the model does both as layers.
    generator = ImageDataGenerator()
    train = generator.flow_from_directory(root / "train", target_size=size, class_mode="binary",
                                          batch_size=batch_size, seed=seed)
    val = generator.flow_from_directory(root / "validation", target_size=size,
                                        class_mode="binary", batch_size=batch_size, shuffle=False)
    return train, val


def small_base(image_size: int) -> Sequential:
    """A 3-block VGG-style base (Keras's layer names), much faster than VGG16 on a CPU."""
    blocks: list = [layers.Input((image_size, image_size, 3))]
    for b, filters in enumerate((32, 64, 128), start=1):
        blocks += [layers.Conv2D(filters, 3, padding="same", activation="relu",
                                 name=f"block{b}_conv1"),
                   layers.MaxPooling2D(2, name=f"block{b}_pool")]
    return Sequential(blocks, name="small_base")


def build_base(kind: str, image_size: int, weights: str | None = None) -> Sequential:
    """The convolutional base: Keras's VGG16 without its top, or :func:`small_base`."""
    if kind == "vgg16":
        return VGG16(weights=weights, include_top=False, input_shape=(image_size, image_size, 3))
    base = small_base(image_size)
    if weights:
        base.load_weights(weights)
    return base


def build_model(base: Sequential, image_size: int, pooling: str = "flatten",
                preprocessing: str = "rescale") -> Model:
    """Augmentation -> preprocessing -> base -> Flatten/GAP -> Dense 256 -> Dropout -> sigmoid."""
    augmentation = Sequential([layers.RandomFlip("horizontal"), layers.RandomRotation(0.1),
                               layers.RandomZoom(0.2)], name="data_augmentation")
    inputs = keras.Input((image_size, image_size, 3))
    x = augmentation(inputs)  # active only while training
    if preprocessing == "rescale":
        x = layers.Rescaling(1 / 255)(x)
    else:  # VGG16's own: RGB -> BGR minus the ImageNet means
        x = vgg16.preprocess_input(x)
    x = base(x)
    x = layers.Flatten()(x) if pooling == "flatten" else layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    return Model(inputs, outputs, name="cats_vs_dogs")


def last_block(base: Sequential) -> str:
    """The name prefix of the base's last block, e.g. ``'block5'`` for VGG16."""
    return max((layer.name.split("_")[0] for layer in base.layers
                if layer.name.startswith("block")), key=lambda name: int(name[5:]))


def train_head(model: Model, base: Sequential, train: Iterable, val: Iterable, epochs: int,
               verbose: int = 2) -> dict:
    """Feature extraction with augmentation: the base is frozen, only the head learns."""
    base.trainable = False
    model.compile(optimizer=Adam(1e-3), loss="binary_crossentropy", metrics=["accuracy"])
    return model.fit(train, validation_data=val, epochs=epochs, verbose=verbose).history


def fine_tune(model: Model, base: Sequential, train: Iterable, val: Iterable, epochs: int,
              learning_rate: float = 1e-5, verbose: int = 2) -> dict:
    """Unfreeze the base's last block, recompile at a low learning rate, train on."""
    block = last_block(base)
    base.trainable = True
    for layer in base.layers:
        layer.trainable = layer.name.startswith(block + "_")
    model.compile(optimizer=Adam(learning_rate), loss="binary_crossentropy",
                  metrics=["accuracy"])  # trainable flags take effect at compile
    return model.fit(train, validation_data=val, epochs=epochs, verbose=verbose).history


def predict_image(model: Model, path: str | os.PathLike, image_size: int) -> float:
    """The model's probability that the image file shows a dog (class 1)."""
    image = img_to_array(load_img(path, target_size=(image_size, image_size)))
    return float(model.predict(image[None], verbose=0)[0, 0])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", help="DIR holding train/{cats,dogs} and validation/{cats,dogs}")
    parser.add_argument("--epochs", type=int, default=10, help="epochs of each phase")
    parser.add_argument("--image-size", type=int, default=150)
    parser.add_argument("--weights", default=None, help="weights file of the base (e.g. Keras's "
                        "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5); default random")
    parser.add_argument("--base", choices=("vgg16", "small"), default="vgg16")
    parser.add_argument("--loader", choices=("dataset", "generator"), default="dataset")
    parser.add_argument("--pooling", choices=("flatten", "avg"), default="flatten")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-5, help="of fine-tuning")
    parser.add_argument("--output", default="cats_vs_dogs.cnnlab", help="where to save")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    """The whole workflow; returns the validation accuracies and the saved model's path."""
    args = parse_args(argv)
    set_random_seed(args.seed)
    size = args.image_size
    train, val = load_folders(args.folder, size, args.batch_size, args.loader, args.seed)
    base = build_base(args.base, size, args.weights)
    model = build_model(base, size, args.pooling,
                        preprocessing="caffe" if args.base == "vgg16" else "rescale")
    model.summary()

    print("-- training the head on the frozen base")
    train_head(model, base, train, val, args.epochs)
    head_accuracy = model.evaluate(val, verbose=0)[1]
    print(f"-- fine-tuning {last_block(base)} at learning rate {args.learning_rate}")
    fine_tune(model, base, train, val, args.epochs, args.learning_rate)
    tuned_accuracy = model.evaluate(val, verbose=0)[1]

    model.save(args.output)
    restored = load_model(args.output)
    image = sorted((Path(args.folder) / "validation" / "dogs").iterdir())[0]
    probability = predict_image(restored, image, size)
    print(f"validation accuracy: head {head_accuracy:.4f}, fine-tuned {tuned_accuracy:.4f}")
    print(f"saved to {args.output}; P(dog) for {image.name}: {probability:.3f}")
    return {"head": head_accuracy, "fine_tuned": tuned_accuracy, "path": args.output,
            "probability": probability}


if __name__ == "__main__":
    main()
