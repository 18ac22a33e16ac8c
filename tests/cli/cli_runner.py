"""Run ``cnnlab ARGS`` for a test: in this process by default (``cnnlab.cli.main`` with
``$CNNLAB_HOME`` and the working folder set, stdout/stderr captured), or as a real
``python -m cnnlab`` subprocess with ``subprocess=True`` (for what only a process shows: the
entry point, exit status from the interpreter, signals). In-process saves the ~1.5 s that each
interpreter spends importing torch.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess as sp
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_cli(home: Path, *args: str, ok: bool = True, subprocess: bool = False,
            timeout: int = 600) -> sp.CompletedProcess:
    """``cnnlab ARGS`` with ``CNNLAB_HOME=home`` in folder ``home``; with ``ok`` the exit code
    must be 0. Returns a ``CompletedProcess`` (``returncode``, ``stdout``, ``stderr``)."""
    if subprocess:
        env = {**os.environ, "CNNLAB_HOME": str(home), "PYTHONPATH": str(ROOT / "src")}
        done = sp.run([sys.executable, "-m", "cnnlab", *args], capture_output=True, text=True,
                      env=env, cwd=home, timeout=timeout)
    else:
        done = _in_process(home, list(args))
    if ok:
        assert done.returncode == 0, f"{args}: {done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done


def _in_process(home: Path, args: list[str]) -> sp.CompletedProcess:
    from cnnlab import cli, mixed_precision
    from cnnlab.layers.registry import clear_session

    clear_session()  # layer names start afresh, as in a new process
    policy = mixed_precision.global_policy()
    out, err = io.StringIO(), io.StringIO()
    saved_home, saved_cwd = os.environ.get("CNNLAB_HOME"), os.getcwd()
    os.environ["CNNLAB_HOME"] = str(home)
    os.chdir(home)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(args)
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        mixed_precision.set_global_policy(policy)  # a recipe's policy ends with its process
        os.chdir(saved_cwd)
        if saved_home is None:
            os.environ.pop("CNNLAB_HOME", None)
        else:
            os.environ["CNNLAB_HOME"] = saved_home
    return sp.CompletedProcess(["cnnlab", *args], code or 0, out.getvalue(), err.getvalue())
