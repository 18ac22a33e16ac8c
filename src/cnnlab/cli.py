"""The ``cnnlab`` command (also ``python -m cnnlab``).

    cnnlab train                       # modern LeNet on Fashion-MNIST, Adam, batch 128, 5 epochs
    cnnlab train --model resnet20 --data cifar10 --epochs 20 --augment
    cnnlab train --recipe fast         # the tuned Fashion-MNIST recipe (zoo/recipes.py)
    cnnlab train --resume RUN          # continue a killed run exactly
    cnnlab train --nproc-per-node 2    # data-parallel in 2 processes (docs/distributed.md)
    cnnlab runs                        # table of recorded runs
    cnnlab evaluate RUN | predict RUN IMAGE... | report RUN | export RUN --format onnx
    cnnlab summary lenet --explain     # Keras's table plus the arithmetic of every layer
    cnnlab explain conv | pool         # step-by-step convolution / pooling on a small matrix
    cnnlab kernel IMAGE --kernel sobel-left

Errors are printed as one line (``cnnlab: error: ...``) with exit code 1; usage errors exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


class CommandError(Exception):
    """An error to report to the user as one line, without a traceback."""


def _shape(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.replace("x", ",").split(",") if v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a shape like 28,28,1, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cnnlab", description="Build, train, evaluate and see "
                                     "inside convolutional neural networks.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = sub.add_parser("train", help="train a model and record the run")
    train.add_argument("--model", default="lenet",
                       help="zoo model name (default: lenet, the lecture's modern LeNet)")
    train.add_argument("--data", default="fashion_mnist",
                       help="mnist, fashion_mnist, cifar10, cifar100, digits or an image folder")
    train.add_argument("--recipe", default=None,
                       help="train a tuned recipe instead of --model/--optimizer: fast, wide "
                            "(its net, schedule, augmentation and epochs)")
    train.add_argument("--epochs", type=int, default=None,
                       help="default: 5, or the recipe's")
    train.add_argument("--batch-size", type=int, default=None,
                       help="default: 128, or the recipe's")
    train.add_argument("--optimizer", default="adam")
    train.add_argument("--lr", type=float, default=None, help="learning rate (optimizer default)")
    train.add_argument("--validation-split", type=float, default=0.1)
    train.add_argument("--augment", action="store_true",
                       help="random shifts, flips and rotations while training")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--name", default=None, help="run name (default: MODEL-DATA)")
    train.add_argument("--resume", metavar="RUN", default=None,
                       help="continue RUN from its last checkpoint")
    train.add_argument("--deterministic", action="store_true",
                       help="deterministic kernels (bit-identical resume on CPU)")
    train.add_argument("--limit", type=int, default=None,
                       help="use only the first N training images (quick runs)")
    train.add_argument("--no-report", action="store_true", help="do not write the HTML report")
    train.add_argument("--verbose", type=int, default=2, choices=(0, 1, 2))
    train.add_argument("--nproc-per-node", type=int, default=1, metavar="N",
                       help="train data-parallel in N processes on this machine (torchrun); "
                            "--batch-size stays the global batch")

    evaluate = sub.add_parser("evaluate", help="test loss and accuracy of a run's model")
    evaluate.add_argument("run")

    predict = sub.add_parser("predict", help="top-k classes of images with a run's model")
    predict.add_argument("run")
    predict.add_argument("images", nargs="+")
    predict.add_argument("--top", type=int, default=3)

    summary = sub.add_parser("summary", help="print a zoo model's summary")
    summary.add_argument("model")
    summary.add_argument("--input-shape", type=_shape, default=None)
    summary.add_argument("--classes", type=int, default=None)
    summary.add_argument("--explain", action="store_true",
                         help="add the output-size arithmetic, parameters, receptive field")

    explain = sub.add_parser("explain", help="convolution or pooling step by step")
    explain.add_argument("what", choices=("conv", "pool"))
    explain.add_argument("--image", default=None, help="matrix as JSON (default: the lecture's)")
    explain.add_argument("--kernel", default=None, help="filter as JSON (conv)")
    explain.add_argument("--stride", type=int, default=1)
    explain.add_argument("--padding", default="valid", help="valid, same or an int")
    explain.add_argument("--pool-size", type=int, default=2)
    explain.add_argument("--mode", choices=("max", "average"), default="max")

    kernel = sub.add_parser("kernel", help="apply an image kernel (blur, sobel-left, ...)")
    kernel.add_argument("image")
    kernel.add_argument("--kernel", default="sobel-left")
    kernel.add_argument("--out", default=None, help="output file (default: IMAGE-KERNEL.png)")

    sub.add_parser("runs", help="list recorded runs")

    report = sub.add_parser("report", help="write a run's HTML report")
    report.add_argument("run")

    export = sub.add_parser("export", help="export a run's model")
    export.add_argument("run")
    export.add_argument("--format", choices=("cnnlab", "onnx"), default="cnnlab")
    export.add_argument("--out", default=None)
    return parser


# --------------------------------------------------------------------------------- commands
def cmd_train(args: argparse.Namespace) -> None:
    import torch

    from cnnlab import device, mixed_precision, optimizers, utils, zoo
    from cnnlab.data.catalog import load_dataset
    from cnnlab.runs.store import RunStore
    from cnnlab.training import distributed
    from cnnlab.zoo.recipes import get_recipe

    if args.nproc_per_node < 1:
        raise CommandError(f"--nproc-per-node must be at least 1, got {args.nproc_per_node}")
    if args.nproc_per_node > 1 and not distributed.launched():
        distributed.launch(args.nproc_per_node, ["-m", "cnnlab", *args.argv])
        return
    if distributed.launched():
        distributed.init_from_env()
    main_process = distributed.is_main_process()
    store = RunStore() if main_process else None
    config, run_id = _train_run(store, args) if main_process else (None, None)
    config, run_id = distributed.broadcast_object((config, run_id))
    if args.deterministic:
        torch.use_deterministic_algorithms(True)
    utils.set_random_seed(int(config["seed"]))
    data = load_dataset(config["data"])
    x, y = data.x_train, data.y_train
    if config.get("limit"):
        x, y = x[: config["limit"]], y[: config["limit"]]
    recipe = get_recipe(config["recipe"]) if config.get("recipe") else None
    if recipe is not None:
        model = recipe.build(data.input_shape, data.classes)
        steps = -(-int(len(x) * (1 - float(config["validation_split"]))) //
                  int(config["batch_size"]))
        recipe.compile(model, steps_per_epoch=steps)
        mixed_precision.set_global_policy(recipe.policy_for(device.default_device()))
        y = utils.to_categorical(y, data.classes)  # the recipe's loss smooths one-hot labels
    else:
        model = zoo.get_model(config["model"], input_shape=data.input_shape,
                              classes=data.classes)
        optimizer = optimizers.get(config["optimizer"])
        if config.get("lr") is not None:
            optimizer.learning_rate = float(config["lr"])
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
    if main_process:
        store.update_config(run_id, input_shape=list(data.input_shape),
                            class_names=data.class_names)
        print(f"run {run_id}: {config['model']} on {data.name} ({len(x)} training images, "
              f"{model.count_params():,} parameters)")
    fit_args: dict[str, Any] = {"epochs": int(config["epochs"]), "verbose": args.verbose,
                                "run": run_id, "resume": True, "seed": int(config["seed"]),
                                "distribute": "ddp" if distributed.is_distributed() else None}
    started = time.perf_counter()
    if config.get("augment"):
        _fit_augmented(model, x, y, config, fit_args)
    else:
        model.fit(x, y, batch_size=int(config["batch_size"]),
                  validation_split=float(config["validation_split"]), **fit_args)
    if not main_process:
        return
    loss, accuracy = model.evaluate(data.x_test, _test_labels(config, data), batch_size=512,
                                    verbose=0)
    print(f"training time {time.perf_counter() - started:.0f} s "
          f"({mixed_precision.global_policy().name})")
    store.finish(run_id, test_loss=loss, test_accuracy=accuracy)
    print(f"test loss {loss:.4f}")
    print(f"test accuracy {accuracy:.4f}")
    if not args.no_report:
        print(f"report: {_write_report(run_id, model, data)}")


def _train_run(store: Any, args: argparse.Namespace) -> tuple[dict, str]:
    """The run's configuration and id: a recorded run (``--resume``) or a new one."""
    if args.resume:
        record = _get_run(store, args.resume)
        return record.config, record.id
    recipe = _recipe(args.recipe) if args.recipe else None
    if recipe and (args.augment or args.lr is not None):
        raise CommandError("--recipe brings its own augmentation and learning-rate schedule; "
                           "drop --augment and --lr")
    model = f"recipe:{recipe.name}" if recipe else args.model
    config = {"model": model, "recipe": recipe and recipe.name, "data": args.data,
              "epochs": args.epochs or (recipe.epochs if recipe else 5),
              "batch_size": args.batch_size or (recipe.batch_size if recipe else 128),
              "optimizer": args.optimizer, "lr": args.lr,
              "validation_split": args.validation_split, "augment": args.augment,
              "seed": args.seed, "limit": args.limit}
    name = args.name or f"{recipe.name if recipe else args.model}-{Path(args.data).name}"
    run_id = store.create(name, model=model, dataset=args.data, config=config)
    return config, run_id


def _test_labels(config: dict, data: Any) -> np.ndarray:
    """The test labels as the run's loss wants them: one-hot for a recipe (its loss smooths
    one-hot labels), integers otherwise."""
    if not config.get("recipe"):
        return data.y_test
    from cnnlab.utils import to_categorical

    return to_categorical(data.y_test, data.classes)


def _recipe(name: str) -> Any:
    from cnnlab.zoo.recipes import get_recipe

    try:
        return get_recipe(name)
    except ValueError as err:
        raise CommandError(f"--recipe: {err}") from None


def _fit_augmented(model: Any, x: np.ndarray, y: np.ndarray, config: dict,
                   fit_args: dict) -> None:
    from cnnlab.data.image_generator import ImageDataGenerator

    split = int(len(x) * (1 - float(config["validation_split"])))
    generator = ImageDataGenerator(rotation_range=10, width_shift_range=0.1,
                                   height_shift_range=0.1, horizontal_flip=True)
    flow = generator.flow(x[:split], y[:split], batch_size=int(config["batch_size"]),
                          seed=int(config["seed"]))
    model.fit(flow, validation_data=(x[split:], y[split:]), **fit_args)


def _write_report(run_id: str, model: Any, data: Any) -> Path:
    from cnnlab.runs.report import write_report

    return write_report(run_id, model=model, dataset=data)


def _get_run(store: Any, run: str) -> Any:
    try:
        return store.get(run)
    except KeyError as err:
        raise CommandError(str(err).strip("'\"")) from None


def _run_model(run: str) -> tuple[Any, Any]:
    from cnnlab.runs.checkpoint import load_checkpoint
    from cnnlab.runs.store import RunStore

    record = _get_run(RunStore(), run)
    if not record.checkpoint or not Path(record.checkpoint).exists():
        raise CommandError(f"run {record.id} has no checkpoint (it recorded {record.epochs} "
                           f"epochs)")
    model, _ = load_checkpoint(record.checkpoint)
    return record, model


def cmd_evaluate(args: argparse.Namespace) -> None:
    from cnnlab.data.catalog import load_dataset
    from cnnlab.runs.store import RunStore

    record, model = _run_model(args.run)
    data = load_dataset(record.config["data"])
    loss, accuracy = model.evaluate(data.x_test, _test_labels(record.config, data),
                                    batch_size=512, verbose=0)
    RunStore().finish(record.id, record.status if record.status != "running" else "finished",
                      test_loss=loss, test_accuracy=accuracy)
    print(f"run {record.id}: test loss {loss:.4f}, test accuracy {accuracy:.4f}")


def cmd_predict(args: argparse.Namespace) -> None:
    from cnnlab.data.image_files import img_to_array, load_img

    record, model = _run_model(args.run)
    height, width, channels = record.config["input_shape"]
    names = record.config.get("class_names") or [str(i) for i in range(10)]
    mode = "grayscale" if channels == 1 else "rgb"
    for path in args.images:
        image = img_to_array(load_img(path, color_mode=mode, target_size=(height, width)))
        probabilities = model.predict(image[None] / 255.0, verbose=0)[0]
        top = np.argsort(probabilities)[::-1][: args.top]
        ranked = ", ".join(f"{names[i]} {probabilities[i]:.3f}" for i in top)
        print(f"{path}: {ranked}")


def cmd_summary(args: argparse.Namespace) -> None:
    from cnnlab import zoo

    options = {}
    if args.input_shape is not None:
        options["input_shape"] = args.input_shape
    if args.classes is not None:
        options["classes"] = args.classes
    model = zoo.get_model(args.model, **options)
    model.summary(explain=args.explain)


def cmd_explain(args: argparse.Namespace) -> None:
    from cnnlab.explain import convolve_steps, pool_steps

    lecture_image = [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0],
                     [0, 1, 1, 0, 0]]
    image = np.array(json.loads(args.image) if args.image else lecture_image, dtype=float)
    padding: Any = int(args.padding) if args.padding.isdigit() else args.padding
    if args.what == "conv":
        kernel = np.array(json.loads(args.kernel) if args.kernel else
                          [[1, 0, 1], [0, 1, 0], [1, 0, 1]], dtype=float)
        print(convolve_steps(image, kernel, stride=args.stride, padding=padding).to_text())
    else:
        print(pool_steps(image, args.pool_size, stride=args.stride if args.stride > 1 else None,
                         mode=args.mode, padding=padding).to_text())


def cmd_kernel(args: argparse.Namespace) -> None:
    from cnnlab.data.image_files import img_to_array, load_img, save_img
    from cnnlab.explain.kernels import apply_kernel

    name = args.kernel.replace("-", "_")
    image = img_to_array(load_img(args.image, color_mode="rgb"))
    filtered = apply_kernel(image.astype(np.uint8), name)
    out = args.out or str(Path(args.image).with_name(f"{Path(args.image).stem}-{args.kernel}.png"))
    save_img(out, filtered, scale=False)
    print(f"wrote {out}")


def cmd_runs(args: argparse.Namespace) -> None:
    from cnnlab.runs.store import RunStore

    runs = RunStore().list()
    if not runs:
        print("no runs recorded yet (cnnlab train records one)")
        return
    header = ("id", "model", "data", "epochs", "best val acc", "test acc", "time", "status")
    rows = [(r.id, r.model or "", r.dataset or "", str(r.epochs), _fmt(r.best_val_accuracy),
             _fmt(r.test_accuracy), f"{r.seconds:.0f}s", r.status) for r in runs]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def cmd_report(args: argparse.Namespace) -> None:
    from cnnlab.data.catalog import load_dataset

    record, model = _run_model(args.run)
    print(f"report: {_write_report(record.id, model, load_dataset(record.config['data']))}")


def cmd_export(args: argparse.Namespace) -> None:
    record, model = _run_model(args.run)
    out = args.out or f"{record.id}.{'onnx' if args.format == 'onnx' else 'cnnlab'}"
    if args.format == "cnnlab":
        model.save(out)
    else:
        from cnnlab.io.onnx import export_onnx

        export_onnx(model, out)
    print(f"wrote {out}")


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict,
            "summary": cmd_summary, "explain": cmd_explain, "kernel": cmd_kernel,
            "runs": cmd_runs, "report": cmd_report, "export": cmd_export}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    try:
        COMMANDS[args.command](args)
    except (CommandError, ValueError, TypeError, KeyError, FileNotFoundError, ImportError,
            RuntimeError) as err:
        message = str(err).strip("'\"") if isinstance(err, KeyError) else str(err)
        print(f"cnnlab: error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("cnnlab: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
