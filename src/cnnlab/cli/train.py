"""``cnnlab train``: train a zoo model or a recipe on a named dataset and record the run; or
continue a recorded run (``--resume RUN``) from its last checkpoint, exactly as if never
interrupted; ``--nproc-per-node N`` relaunches itself data-parallel in N processes."""

from __future__ import annotations

import argparse
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from cnnlab.cli._errors import CommandError
from cnnlab.cli._options import at_least
from cnnlab.cli._store import get_run, run_test_labels, write_report
from cnnlab.cli.parser import given_train_options


def _check_train_numbers(args: argparse.Namespace) -> None:
    """The numeric options of ``cnnlab train``, checked before anything is recorded."""
    at_least(1, epochs=args.epochs, batch_size=args.batch_size, limit=args.limit,
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
    """``cnnlab train``: check the options, record (or reopen) the run, fit with a checkpoint
    every epoch, then print and record the test loss and accuracy and write the HTML report
    (unless ``--no-report``)."""
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
        recipe.compile(model, steps_per_epoch=steps, epochs=int(config["epochs"]))
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
    loss, accuracy = model.evaluate(data.x_test, run_test_labels(config, data), batch_size=512,
                                    verbose=0)
    single_view = accuracy
    if recipe is not None and recipe.test_time_flip:
        accuracy = recipe.accuracy(model, data.x_test, data.y_test)
    print(f"training time {time.perf_counter() - started:.0f} s "
          f"({mixed_precision.global_policy().name})")
    store.finish(run_id, test_loss=loss, test_accuracy=accuracy)
    print(f"test loss {loss:.4f}")
    if accuracy != single_view:
        print(f"test accuracy {accuracy:.4f} (mean over each image and its mirror image; one "
              f"view: {single_view:.4f})")
    else:
        print(f"test accuracy {accuracy:.4f}")
    if not args.no_report:
        print(f"report: {write_report(run_id, model, data)}")


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

    record = get_run(store, args.resume)
    config = dict(record.config)
    if "data" not in config:
        raise CommandError(f"run {record.id} was not recorded by cnnlab train; resume it from "
                           f"its script with fit(run={record.id!r}, resume=True)")
    check_not_running(record)
    conflicts = []
    for dest in sorted(given_train_options(getattr(args, "argv", [])) & set(FIXED_ON_RESUME)):
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
