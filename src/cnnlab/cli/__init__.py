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

The package: ``parser`` (every command's options), ``program`` (``main``: dispatch through
``COMMANDS``, exit codes), one module per command family (``train``, ``evaluate`` with
predict, ``runs`` with report, ``summary``, ``explain`` with kernel, ``model_files``: export
and import-weights, ``serve``) and private helpers (``_errors``: one-line errors, ``_options``:
option values, ``_store``: opening a recorded run).
"""

from cnnlab.cli._errors import EXPECTED_ERRORS, CommandError
from cnnlab.cli._options import MAX_CLASSES, MAX_SIDE
from cnnlab.cli.evaluate import cmd_evaluate, cmd_predict
from cnnlab.cli.explain import MAX_EXPLAIN_PADDING, cmd_explain, cmd_kernel
from cnnlab.cli.model_files import cmd_export, cmd_import_weights
from cnnlab.cli.parser import build_parser
from cnnlab.cli.program import COMMANDS, main
from cnnlab.cli.runs import cmd_report, cmd_runs
from cnnlab.cli.summary import cmd_summary
from cnnlab.cli.train import FIXED_ON_RESUME, cmd_train

__all__ = [
    "COMMANDS", "EXPECTED_ERRORS", "FIXED_ON_RESUME", "MAX_CLASSES", "MAX_EXPLAIN_PADDING",
    "MAX_SIDE", "CommandError", "build_parser", "cmd_evaluate", "cmd_explain", "cmd_export",
    "cmd_import_weights", "cmd_kernel", "cmd_predict", "cmd_report", "cmd_runs", "cmd_summary",
    "cmd_train", "main",
]
