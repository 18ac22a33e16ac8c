"""The ``cnnlab`` command (also ``python -m cnnlab``).

    cnnlab train                       # modern LeNet on Fashion-MNIST, Adam, batch 128, 5 epochs
    cnnlab train --model resnet20 --data cifar10 --epochs 20 --augment
    cnnlab train --recipe fast         # the tuned Fashion-MNIST recipe (zoo/recipes.py)
    cnnlab train --resume RUN          # continue a killed run exactly
    cnnlab train --nproc-per-node 2    # data-parallel in 2 processes (docs/distributed.md)
    cnnlab train --dashboard           # watch it live in the browser (prints the URL)
    cnnlab runs                        # table of recorded runs
    cnnlab runs compare RUN RUN        # runs side by side, their curves overlaid in a PNG
    cnnlab serve                       # dashboard of all recorded runs (127.0.0.1:8000)
    cnnlab evaluate RUN | predict RUN IMAGE... | report RUN | export RUN --format onnx|keras-h5
    cnnlab import-weights vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5 --model vgg16 --no-top
    cnnlab summary lenet --explain     # Keras's table plus the arithmetic of every layer
    cnnlab explain conv | pool         # step-by-step convolution / pooling on a small matrix
    cnnlab kernel IMAGE --kernel sobel-left

Errors are printed as one line (``cnnlab: error: ...``) with exit code 1 (``--debug``, before
or after COMMAND, shows the traceback); usage errors (an unknown option, a value that is not a
number) are one line too, naming the option, what it expects and what it got, with exit code 2.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cnnlab.dashboard.cli import add_serve_arguments, cmd_serve


class CommandError(Exception):
    """An error to report to the user as one line, without a traceback."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors: ``cnnlab train: error: argument --epochs: expected
    an integer, got 'many' (cnnlab train --help lists the options)``, exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        message = re.sub(r"invalid int value: (.*)", r"expected an integer, got \1", message)
        message = re.sub(r"invalid float value: (.*)", r"expected a number, got \1", message)
        self.exit(2, f"{self.prog}: error: {message} ({self.prog} --help lists the options)\n")


MAX_SIDE = 65536  # --input-shape: larger sizes only fail later, in an allocation
MAX_CLASSES = 1_000_000


def _shape(text: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(v) for v in text.replace("x", ",").split(",") if v.strip())
    except ValueError:
        shape = ()
    if not shape or not all(1 <= size <= MAX_SIDE for size in shape):
        raise argparse.ArgumentTypeError(f"expected a shape of integers from 1 to {MAX_SIDE} "
                                         f"like 28,28,1, got {text!r}")
    return shape


def _at_least(low: int, high: int | None = None, **values: int | None) -> None:
    """Raise ``CommandError`` for the first option (``batch_size`` names ``--batch-size``)
    whose value is given and below ``low`` (or above ``high``)."""
    for dest, value in values.items():
        option = f"--{dest.replace('_', '-')}"
        if value is not None and value < low:
            raise CommandError(f"{option} must be at least {low}, got {value}")
        if value is not None and high is not None and value > high:
            raise CommandError(f"{option} must be at most {high:,}, got {value}")


def _add_train_arguments(train: argparse.ArgumentParser) -> None:
    """The options of ``cnnlab train`` (also parsed alone to see which were given)."""
    train.add_argument("--model", default="lenet",
                       help="zoo model name (default: lenet, the lecture's modern LeNet)")
    train.add_argument("--data", default="fashion_mnist",
                       help="mnist, fashion_mnist, cifar10, cifar100, digits or an image folder")
    train.add_argument("--recipe", default=None,
                       help="train a tuned recipe instead of --model/--optimizer: fast, wide "
                            "(its net, schedule, augmentation and epochs)")
    train.add_argument("--epochs", type=int, default=None,
                       help="default: 5, or the recipe's; with --resume, the total to reach "
                            "(more than the run has trained extends it)")
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
                       help="continue RUN from its last checkpoint (a killed run, or a "
                            "finished one with a larger --epochs); its model, data and "
                            "settings cannot change")
    train.add_argument("--deterministic", action="store_true",
                       help="deterministic kernels (bit-identical resume on CPU)")
    train.add_argument("--limit", type=int, default=None,
                       help="use only the first N training images (quick runs)")
    train.add_argument("--no-report", action="store_true", help="do not write the HTML report")
    train.add_argument("--verbose", type=int, default=2, choices=(0, 1, 2))
    train.add_argument("--nproc-per-node", type=int, default=1, metavar="N",
                       help="train data-parallel in N processes on this machine (torchrun); "
                            "--batch-size stays the global batch")
    train.add_argument("--dashboard", action="store_true",
                       help="watch the training live in the browser (prints the URL)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cnnlab", description="Build, train, evaluate and see inside "
                                                "convolutional neural networks.")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error instead of one line")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    _add_train_arguments(sub.add_parser("train", help="train a model and record the run"))

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

    explain = sub.add_parser("explain", help="convolution or pooling step by step",
                             epilog="matrices are JSON, quoted for the shell: "
                                    "--image '[[1,0,2],[3,1,0],[0,2,1]]' --kernel '[[-1,1]]'")
    explain.add_argument("what", choices=("conv", "pool"))
    explain.add_argument("--image", default=None, help="matrix as JSON (default: the lecture's)")
    explain.add_argument("--kernel", default=None, help="filter as JSON (conv)")
    explain.add_argument("--stride", type=int, default=None,
                         help="default: 1 for conv, the pool size for pool (as Keras)")
    explain.add_argument("--padding", default="valid", help="valid, same or an int")
    explain.add_argument("--pool-size", type=int, default=2)
    explain.add_argument("--mode", choices=("max", "average"), default="max")
    explain.add_argument("--out", default=None, metavar="FILE.png",
                         help="also draw the steps: input with each window, output, arithmetic")
    explain.add_argument("--max-steps", type=int, default=36,
                         help="windows drawn in --out (default: 36)")

    kernel = sub.add_parser("kernel", help="apply an image kernel (blur, sobel-left, ...)",
                            epilog="a custom kernel is a JSON matrix, quoted for the shell: "
                                   "--kernel '[[-1,0,1],[-2,0,2],[-1,0,1]]' or "
                                   "--kernel='[[-1,0,1],[-2,0,2],[-1,0,1]]'")
    kernel.add_argument("image")
    kernel.add_argument("--kernel", default="sobel-left",
                        help="a name (identity, blur, box-blur, sharpen, outline, sobel-top, "
                             "sobel-bottom, sobel-left, sobel-right, emboss) or a JSON matrix "
                             "of any size (default: sobel-left)")
    kernel.add_argument("--out", default=None,
                        help="output file (default: IMAGE-KERNEL.png, IMAGE-custom.png for a "
                             "matrix)")
    kernel.add_argument("--raw", action="store_true",
                        help="write only the filtered image at the input's size, instead of "
                             "the before / kernel / after figure")

    runs = sub.add_parser("runs", help="list recorded runs, or compare some",
                          description="cnnlab runs: the table of recorded runs; cnnlab runs "
                                      "compare A B ...: runs side by side, with their curves")
    runs_actions = runs.add_subparsers(dest="runs_action", metavar="ACTION")
    runs_actions.add_parser("list", help="the table of recorded runs (the default)")
    compare = runs_actions.add_parser("compare", help="runs side by side: settings, scores, "
                                      "and their training curves overlaid in a PNG")
    compare.add_argument("run_ids", nargs="+", metavar="RUN",
                         help="run ids, unique id prefixes or run names (at least two)")
    compare.add_argument("--out", default=None, metavar="FILE.png",
                         help="where to write the curves (default: "
                              "runs/compare/ID--ID.png under the run store)")

    report = sub.add_parser("report", help="write a run's HTML report")
    report.add_argument("run")

    export = sub.add_parser("export", help="export a run's model")
    export.add_argument("run")
    export.add_argument("--format", choices=("cnnlab", "onnx", "keras-h5"), default="cnnlab",
                        help="cnnlab model file, ONNX, or the weights as a Keras 2 HDF5 file "
                             "(Keras's load_weights reads it)")
    export.add_argument("--out", default=None)

    imported = sub.add_parser(
        "import-weights", help="build a zoo model with weights from a Keras or PyTorch file",
        description="Build the zoo model --model, load FILE into it (recognised by content: "
                    "Keras 2 HDF5 such as vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5, "
                    "Keras 3 .keras/.weights.h5, a PyTorch state dict or .safetensors, a cnnlab "
                    "file) and save it as a cnnlab model file.")
    imported.add_argument("file", help="the weights file")
    imported.add_argument("--model", required=True, help="zoo model name (e.g. vgg16)")
    imported.add_argument("--input-shape", type=_shape, default=None)
    imported.add_argument("--classes", type=int, default=None)
    imported.add_argument("--no-top", action="store_true",
                          help="without the classifier (include_top=False; vgg16)")
    imported.add_argument("--by-order", action="store_true",
                          help="match a Keras 2 HDF5 file's layers by order, not by name (for "
                               "files whose layer names differ from the zoo model's)")
    imported.add_argument("--out", default=None,
                          help="model file to write (default: FILE's name + .cnnlab)")

    add_serve_arguments(sub.add_parser("serve", help="live dashboard of the recorded runs"))
    _debug_everywhere(sub)
    return parser


def _debug_everywhere(subparsers: argparse._SubParsersAction) -> None:
    """Accept ``--debug`` after the command too (``cnnlab train ... --debug``)."""
    for parser in subparsers.choices.values():
        parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                            help="show the full traceback of an error instead of one line")
        nested = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        for action in nested:
            _debug_everywhere(action)


# --------------------------------------------------------------------------------- commands
def _check_train_numbers(args: argparse.Namespace) -> None:
    """The numeric options of ``cnnlab train``, checked before anything is recorded."""
    _at_least(1, epochs=args.epochs, batch_size=args.batch_size, limit=args.limit,
              nproc_per_node=args.nproc_per_node)
    if not 0.0 <= args.validation_split < 1.0:
        raise CommandError(f"--validation-split must be a fraction in [0, 1), got "
                           f"{args.validation_split}")
    if args.lr is not None and not (args.lr > 0.0 and math.isfinite(args.lr)):
        raise CommandError(f"--lr must be a positive finite number, got {args.lr}")
    if not 0 <= args.seed < 2**63:
        raise CommandError(f"--seed must be an integer in [0, 2**63), got {args.seed}")


def _check_train_names(args: argparse.Namespace) -> None:
    """``--model``, ``--optimizer`` and ``--data`` of a new run, checked before it is recorded
    (a recipe brings its own model and optimizer)."""
    from cnnlab import optimizers
    from cnnlab.data.catalog import LOADERS
    from cnnlab.zoo.registry import MODELS

    if args.recipe is None:
        if args.model not in MODELS:
            raise CommandError(f"--model must be a zoo model ({', '.join(MODELS)}), got "
                               f"{args.model!r}")
        try:
            optimizers.get(args.optimizer)
        except ValueError as err:
            raise CommandError(f"--optimizer: {err}") from None
    if args.data.lower().replace("-", "_") not in LOADERS and not os.path.isdir(args.data):
        raise CommandError(f"--data must be one of {', '.join(sorted(LOADERS))} or a folder of "
                           f"class sub-folders, got {args.data!r} (no such folder)")


def cmd_train(args: argparse.Namespace) -> None:
    import torch

    from cnnlab import device, mixed_precision, optimizers, utils, zoo
    from cnnlab.data.catalog import load_dataset
    from cnnlab.runs.store import RunStore
    from cnnlab.training import distributed
    from cnnlab.zoo.recipes import get_recipe

    _check_train_numbers(args)
    if not args.resume:
        _check_train_names(args)
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
                                "distribute": "ddp" if distributed.is_distributed() else None,
                                "dashboard": args.dashboard}
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
        return _resume_config(store, args)
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


# options a resumed run keeps from its record: option dest -> config key (None: the run's name)
FIXED_ON_RESUME = {"model": "model", "data": "data", "recipe": "recipe",
                   "batch_size": "batch_size", "optimizer": "optimizer", "lr": "lr",
                   "validation_split": "validation_split", "augment": "augment", "seed": "seed",
                   "limit": "limit", "name": None}


def _resume_config(store: Any, args: argparse.Namespace) -> tuple[dict, str]:
    """``--resume RUN``: the recorded configuration, with ``--epochs`` as the new total.

    A larger ``--epochs`` extends the run (its planned epochs are updated); one not larger than
    the epochs it trained is an error, as is an option of :data:`FIXED_ON_RESUME` given with a
    value other than the recorded one. Without ``--epochs`` the run continues to its planned
    epochs (a finished run is only evaluated again).
    """
    from cnnlab.runs.recorder import check_not_running

    record = _get_run(store, args.resume)
    config = dict(record.config)
    if "data" not in config:
        raise CommandError(f"run {record.id} was not recorded by cnnlab train; resume it from "
                           f"its script with fit(run={record.id!r}, resume=True)")
    check_not_running(record)
    conflicts = []
    for dest in sorted(_given_train_options(getattr(args, "argv", [])) & set(FIXED_ON_RESUME)):
        given = getattr(args, dest)
        recorded = record.name if dest == "name" else config.get(FIXED_ON_RESUME[dest])
        if str(given).lower() != str(recorded).lower():
            conflicts.append(f"--{dest.replace('_', '-')} (recorded {recorded}, got {given})")
    if conflicts:
        raise CommandError(f"--resume {record.id}: a resumed run keeps its settings, cannot "
                           f"change {', '.join(conflicts)}; start a new run instead")
    done, planned = record.epochs, int(config.get("epochs") or 0)
    if args.epochs is not None and args.epochs <= done:
        raise CommandError(f"run {record.id} already trained {_epochs(done)}; --epochs must be "
                           f"larger to extend it (got {args.epochs})")
    if args.epochs is not None and args.epochs != planned:
        store.update_config(record.id, epochs=args.epochs)
        config["epochs"] = planned = args.epochs
        if config.get("recipe") and planned > _recipe(config["recipe"]).epochs:
            print(f"note: recipe {config['recipe']}'s learning rate decays to 0 after "
                  f"{_recipe(config['recipe']).epochs} epochs; later epochs change little")
    if done >= planned:
        print(f"run {record.id} already trained its {_epochs(done)}: evaluating it again "
              f"(--epochs N with N > {done} trains it longer)")
    else:
        print(f"resuming run {record.id} ({record.status}) at epoch {done + 1} of {planned}")
    return config, record.id


def _epochs(count: int) -> str:
    return f"{count} epoch{'' if count == 1 else 's'}"


def _given_train_options(argv: Sequence[str]) -> set[str]:
    """The ``cnnlab train`` options written on the command line ``argv`` (not defaulted)."""
    parser = argparse.ArgumentParser(add_help=False)
    _add_train_arguments(parser)
    unset = object()  # not a string: argparse would run it through the option's type
    parser.set_defaults(**dict.fromkeys(vars(parser.parse_args([])), unset))
    argv = list(argv)
    given, _ = parser.parse_known_args(argv[argv.index("train") + 1:] if "train" in argv
                                       else argv)
    return {dest for dest, value in vars(given).items() if value is not unset}


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

    _at_least(1, top=args.top)
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

    _at_least(1, MAX_CLASSES, classes=args.classes)
    options = {}
    if args.input_shape is not None:
        options["input_shape"] = args.input_shape
    if args.classes is not None:
        options["classes"] = args.classes
    model = zoo.get_model(args.model, **options)
    model.summary(explain=args.explain)


def cmd_explain(args: argparse.Namespace) -> None:
    from cnnlab.explain import convolve_steps, pool_steps

    def matrix(text: str | None, default: list, option: str) -> np.ndarray:
        try:
            return np.array(json.loads(text) if text else default, dtype=float)
        except (json.JSONDecodeError, TypeError, ValueError):
            raise CommandError(f"{option} must be a JSON matrix of numbers such as "
                               f"[[1,0],[0,1]], got {text!r}") from None

    image = matrix(args.image, [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1],
                                [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]], "--image")
    _at_least(1, stride=args.stride, pool_size=args.pool_size, max_steps=args.max_steps)
    padding = _explain_padding(args.padding, args.what)
    if args.what == "conv":
        kernel = matrix(args.kernel, [[1, 0, 1], [0, 1, 0], [1, 0, 1]], "--kernel")
        trace = convolve_steps(image, kernel, stride=args.stride or 1, padding=padding)
    else:  # stride None: the pool size, as Keras's MaxPooling2D(strides=None)
        trace = pool_steps(image, args.pool_size, stride=args.stride, mode=args.mode,
                           padding=padding)
    print(trace.to_text())
    if args.out:
        from cnnlab.plots.images import write_steps

        print(f"wrote {write_steps(trace, args.out, max_steps=args.max_steps)}")


MAX_EXPLAIN_PADDING = 32  # a step-by-step trace is for small matrices


def _explain_padding(text: str, what: str) -> Any:
    """``--padding`` of ``cnnlab explain``: 'valid', 'same' or (conv) a small int."""
    if text.strip().lower() in ("valid", "same"):
        return text.strip().lower()
    expected = "'valid' or 'same'" if what == "pool" else \
        f"'valid', 'same' or an integer from 0 to {MAX_EXPLAIN_PADDING}"
    try:
        padding = int(text)
    except ValueError:
        padding = None
    if what == "pool" or padding is None or not 0 <= padding <= MAX_EXPLAIN_PADDING:
        raise CommandError(f"--padding of explain {what} must be {expected}, got {text!r}")
    return padding


def cmd_kernel(args: argparse.Namespace) -> None:
    from cnnlab.data.image_files import img_to_array, load_img, save_img
    from cnnlab.explain.kernels import apply_kernel, kernel_matrix

    custom = args.kernel.strip().startswith("[")
    try:  # a bad name or matrix fails here, before the image is read
        matrix = kernel_matrix(args.kernel)
    except ValueError as err:
        raise CommandError(f"--kernel: {err}") from None
    kernel = matrix if custom else args.kernel
    image = img_to_array(load_img(args.image, color_mode="rgb")).astype(np.uint8)
    label = "custom" if custom else args.kernel
    out = args.out or str(Path(args.image).with_name(f"{Path(args.image).stem}-{label}.png"))
    if args.raw:
        save_img(out, apply_kernel(image, kernel), scale=False)
    else:
        from cnnlab.plots.images import kernel_before_after

        kernel_before_after(image, kernel, out)
    print(f"wrote {out}")


def cmd_runs(args: argparse.Namespace) -> None:
    from cnnlab.runs.store import RunStore

    if getattr(args, "runs_action", None) == "compare":
        _compare_runs(args)
        return
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


def _compare_runs(args: argparse.Namespace) -> None:
    """``cnnlab runs compare``: the table on stdout, then the path of the curves PNG."""
    from cnnlab.runs.compare import comparison, format_table, write_curves
    from cnnlab.runs.store import RunStore

    if len(args.run_ids) < 2:
        raise CommandError(f"runs compare needs at least 2 runs, got {len(args.run_ids)}: "
                           f"{args.run_ids[0]}")
    if args.out is not None and Path(args.out).is_dir():
        raise CommandError(f"--out must be a PNG file name, got the folder {args.out!r}")
    store = RunStore()
    records = []
    for run in args.run_ids:
        record = _get_run(store, run)
        if any(record.id == seen.id for seen in records):
            raise CommandError(f"run {record.id} is given twice ({run!r})")
        records.append(record)
    print(format_table(comparison(records), bold=sys.stdout.isatty()))
    try:
        path = write_curves(records, args.out)
    except OSError as err:
        raise CommandError(f"cannot write the curves to {err.filename or args.out!r}: "
                           f"{err.strerror or err}") from None
    print(f"curves: {path}" if path else "curves: none (no run recorded an epoch)")


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def cmd_report(args: argparse.Namespace) -> None:
    from cnnlab.data.catalog import load_dataset

    record, model = _run_model(args.run)
    print(f"report: {_write_report(record.id, model, load_dataset(record.config['data']))}")


def cmd_export(args: argparse.Namespace) -> None:
    record, model = _run_model(args.run)
    suffix = {"cnnlab": "cnnlab", "onnx": "onnx", "keras-h5": "weights.h5"}[args.format]
    out = args.out or f"{record.id}.{suffix}"
    if args.format == "cnnlab":
        model.save(out)
    elif args.format == "keras-h5":
        model.save_weights(out, save_format="h5")
    else:
        from cnnlab.io.onnx import export_onnx

        export_onnx(model, out)
    print(f"wrote {out}")


def cmd_import_weights(args: argparse.Namespace) -> None:
    from cnnlab import zoo
    from cnnlab.io.weight_files import load_weights_file, weights_format

    _at_least(1, MAX_CLASSES, classes=args.classes)
    options: dict[str, Any] = {}
    if args.input_shape is not None:
        options["input_shape"] = args.input_shape
    if args.classes is not None:
        options["classes"] = args.classes
    if args.no_top:
        options["include_top"] = False
    kind = weights_format(args.file)
    model = zoo.get_model(args.model, **options)
    load_weights_file(model, args.file, by_name=kind == "keras2-h5" and not args.by_order)
    out = args.out or f"{Path(args.file).name.split('.')[0]}.cnnlab"
    model.save(out)
    print(f"{args.model}: {model.count_params():,} parameters loaded from {args.file} "
          f"({kind}); wrote {out}")


def _serve(args: argparse.Namespace) -> None:
    """``cnnlab serve`` (dashboard/cli.py), its port checked before the store is opened."""
    if not 0 <= args.port <= 65535:
        raise CommandError(f"--port must be in [0, 65535] (0: any free port), got {args.port}")
    cmd_serve(args)


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict,
            "summary": cmd_summary, "explain": cmd_explain, "kernel": cmd_kernel,
            "runs": cmd_runs, "report": cmd_report, "export": cmd_export, "serve": _serve,
            "import-weights": cmd_import_weights}


# errors whose message is meant for the user; any other exception is a bug (or a resource
# failure) and is printed with its type
EXPECTED_ERRORS = (CommandError, ValueError, TypeError, KeyError, OSError, ImportError,
                   RuntimeError)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``cnnlab ARGV``; returns the exit code (0, 1 for an error, 2 for a usage error,
    130 for Ctrl-C). Every error is one line on stderr unless ``--debug`` is given."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parse(argv)
    except SystemExit as done:  # --help, or a usage error (printed already)
        return done.code if isinstance(done.code, int) else 0 if done.code is None else 2
    args.argv = argv
    try:
        COMMANDS[args.command](args)
        sys.stdout.flush()  # a closed pipe fails here, not in Python's exit flush
    except KeyboardInterrupt:
        print("cnnlab: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `cnnlab runs | head`: the reader left, nothing to report
        _silence_stdout()
        return 1
    except Exception as err:
        if args.debug:
            raise
        print(f"cnnlab: error: {_one_line(err)}", file=sys.stderr)
        return 1
    return 0


def _parse(argv: list[str]) -> argparse.Namespace:
    """``argv`` parsed; an unknown option is reported by its command's parser (``cnnlab
    train: error: unrecognized arguments: --epoch (cnnlab train --help lists the options)``)."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        owner = parser
        for dest in ("command", "runs_action"):
            choices = _subcommands(owner)
            if choices and getattr(args, dest, None) in choices:
                owner = choices[getattr(args, dest)]
        owner.error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The sub-parsers of ``parser`` by command name (empty when it has none)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _one_line(err: Exception) -> str:
    """The error as one line: its first non-empty line (a PyTorch error can carry a C++ stack),
    prefixed by its type when it is not one of :data:`EXPECTED_ERRORS`."""
    message = str(err).strip("'\"") if isinstance(err, KeyError) else str(err)
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    text = lines[0] if lines else type(err).__name__
    if isinstance(err, MemoryError):
        return f"out of memory ({text})" if lines else "out of memory"
    if not isinstance(err, EXPECTED_ERRORS):
        text = f"{type(err).__name__}: {text}" if lines else text
        return f"{text} (cnnlab --debug ... shows the traceback)"
    return text


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that Python's exit flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


if __name__ == "__main__":
    sys.exit(main())
