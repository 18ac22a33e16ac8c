"""The command line of ``cnnlab``: every command's options (``serve``'s come from
:mod:`cnnlab.dashboard.cli`), ``--debug`` before or after the command, and usage errors as one
line with exit code 2."""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence

from cnnlab.cli._options import shape
from cnnlab.dashboard.cli import add_serve_arguments


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors: ``cnnlab train: error: argument --epochs: expected
    an integer, got 'many' (cnnlab train --help lists the options)``, exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        message = re.sub(r"invalid int value: (.*)", r"expected an integer, got \1", message)
        message = re.sub(r"invalid float value: (.*)", r"expected a number, got \1", message)
        self.exit(2, f"{self.prog}: error: {message} ({self.prog} --help lists the options)\n")


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
    """The parser of ``cnnlab [--debug] COMMAND ...``: one sub-parser per command (``runs``
    with its actions ``list`` and ``compare``), each accepting ``--debug`` too; the parsed
    command is ``args.command`` (``args.runs_action`` for ``runs``)."""
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
    summary.add_argument("--input-shape", type=shape, default=None)
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
    imported.add_argument("--input-shape", type=shape, default=None)
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


def parse_args(argv: list[str]) -> argparse.Namespace:
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


def given_train_options(argv: Sequence[str]) -> set[str]:
    """The ``cnnlab train`` options written on the command line ``argv`` (not defaulted)."""
    parser = argparse.ArgumentParser(add_help=False)
    _add_train_arguments(parser)
    unset = object()  # not a string: argparse would run it through the option's type
    parser.set_defaults(**dict.fromkeys(vars(parser.parse_args([])), unset))
    argv = list(argv)
    given, _ = parser.parse_known_args(argv[argv.index("train") + 1:] if "train" in argv
                                       else argv)
    return {dest for dest, value in vars(given).items() if value is not unset}
