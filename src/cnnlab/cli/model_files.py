"""``cnnlab export`` and ``cnnlab import-weights``: models out of and into files (cnnlab, ONNX,
Keras 2 HDF5; Keras 3, PyTorch and safetensors weights)."""

from __future__ import annotations

import argparse
from pathlib import Path

from cnnlab.cli._options import zoo_options
from cnnlab.cli._store import run_model


def cmd_export(args: argparse.Namespace) -> None:
    """``cnnlab export RUN``: the run's model as a cnnlab model file, ONNX, or its weights
    as a Keras 2 HDF5 file (``--format``), written to ``--out`` (default: ``RUN_ID.SUFFIX``)."""
    record, model = run_model(args.run)
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
    """``cnnlab import-weights FILE --model NAME``: the zoo model with the weights of a
    Keras, PyTorch or cnnlab file (recognised by content), saved as a cnnlab model file."""
    from cnnlab import zoo
    from cnnlab.io.weight_files import load_weights_file, weights_format

    options = zoo_options(args)
    if args.no_top:
        options["include_top"] = False
    kind = weights_format(args.file)
    model = zoo.get_model(args.model, **options)
    load_weights_file(model, args.file, by_name=kind == "keras2-h5" and not args.by_order)
    out = args.out or f"{Path(args.file).name.split('.')[0]}.cnnlab"
    model.save(out)
    print(f"{args.model}: {model.count_params():,} parameters loaded from {args.file} "
          f"({kind}); wrote {out}")
