"""Bad command lines for every ``cnnlab`` command (issue 14, item 5): each one is refused with
one line on stderr (``cnnlab ...: error: ...``, naming the option, what it expects and what it
got), a non-zero exit code (2 for usage errors, 1 for the rest) and no traceback, unless
``--debug`` is given, which shows the traceback.

The commands are enumerated from the argparse parser (``runs compare`` included), so a new
command or option is covered at once: unknown options, values that are not numbers, bad
choices, missing positionals and nonexistent run ids are generated from the parser; the
numbers that parse but make no sense (``--epochs -1``) and the files each command reads come
from the tables below, and ``test_the_tables_cover_every_command_and_number`` fails until a new
command or numeric option has its row. Almost every case runs in this process through
``cnnlab.cli.main(argv)`` (milliseconds each); a few run as real ``python -m cnnlab``
subprocesses. Every case is recorded as ``bad inputs tried / clean errors``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tally
from PIL import Image

from cnnlab.cli import build_parser, main
from cnnlab.cli._options import shape as shape_option

ROOT = Path(__file__).resolve().parents[2]
FIGURE = "bad inputs tried / clean errors"
NO_RUN = "no-such-run"


# ------------------------------------------------------------------------ the parser, walked
def command_paths(parser: argparse.ArgumentParser | None = None,
                  path: tuple[str, ...] = ()) -> dict[tuple[str, ...], argparse.ArgumentParser]:
    """Every command and sub-command: ``('train',) ... ('runs', 'compare')`` -> its parser."""
    parser = parser or build_parser()
    found = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[(*path, name)] = sub
                found.update(command_paths(sub, (*path, name)))
    return found


PATHS = command_paths()


def own_actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions
            if not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction))]


def numeric_options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in own_actions(parser)
            if a.option_strings and a.type in (int, float) and a.choices is None]


# placeholder values of positionals and required options, by dest (files are made below)
VALID = {"run": ["RUN"], "run_ids": ["RUN", "RUN"], "images": ["IMG"], "image": ["IMG"],
         "file": ["MISSING.h5"], "model": ["lenet"], "what": ["conv"]}


def filler(parser: argparse.ArgumentParser, **given: list[str]) -> list[str]:
    """Positionals and required options for ``parser``, from ``given`` or :data:`VALID`."""
    argv: list[str] = []
    for action in own_actions(parser):
        values = given.get(action.dest) or VALID.get(action.dest)
        if not action.option_strings:
            if values is None:
                raise KeyError(f"no placeholder for the positional {action.dest!r}: add one "
                               f"to VALID")
            argv += values
        elif action.required:
            argv += [action.option_strings[0], *values]
    return argv


# ------------------------------------------------------------------- the tables of bad values
# numbers that parse but make no sense: (command, option) -> values; each must be refused
# with a message naming the option
BAD_NUMBERS = {
    ("train", "--epochs"): ["0", "-1"],
    ("train", "--batch-size"): ["0", "-32"],
    ("train", "--lr"): ["0", "-0.1", "nan", "inf", "1e400"],
    ("train", "--validation-split"): ["-0.1", "1", "2.5", "nan"],
    ("train", "--seed"): ["-1", str(2**64)],
    ("train", "--limit"): ["0", "-1"],
    ("train", "--nproc-per-node"): ["0", "-2"],
    ("predict", "--top"): ["0", "-1"],
    ("summary", "--classes"): ["0", "-1", str(10**20)],
    ("explain", "--stride"): ["0", "-1"],
    ("explain", "--pool-size"): ["0", "-2"],
    ("explain", "--max-steps"): ["0", "-1"],
    ("import-weights", "--classes"): ["0", "-10", str(10**20)],
    ("serve", "--port"): ["-1", "65536", str(10**20)],
}

# everything else a command reads: files, names, run ids, matrices, ...: (argv, message)
SEMANTIC = [
    (["train", "--data", "MISSING_DIR"], "--data must be one of"),
    (["train", "--data", "digits", "--model", "no-such-net"], "--model must be a zoo model"),
    (["train", "--data", "digits", "--optimizer", "adamm"], "--optimizer: Unknown optimizer"),
    (["evaluate", "BARE"], "has no checkpoint"),
    (["predict", "RUN", "MISSING.png"], "could not read image 'missing.png'"),
    (["predict", "RUN", "NOT_IMAGE"], "could not read image"),
    (["predict", "RUN", "DIR"], "could not read image"),
    (["summary", "lenet", "--input-shape", "2,2,1"], "cannot build for input_shape"),
    (["summary", "lenet", "--input-shape", "28"], "must be (height, width, channels)"),
    (["explain", "conv", "--padding", "100000"], "--padding of explain conv must be"),
    (["explain", "conv", "--padding", "-1"], "--padding of explain conv must be"),
    (["explain", "pool", "--padding", "1"], "--padding of explain pool must be"),
    (["explain", "conv", "--padding", "sideways"], "--padding of explain conv must be"),
    (["explain", "pool", "--pool-size", "99"], "does not fit the padded input"),
    (["explain", "conv", "--image", "[]"], "must be a non-empty"),
    (["explain", "conv", "--image", "[[1,2],[3]]"], "--image must be a JSON matrix"),
    (["explain", "conv", "--out", "DIR"], "it is a directory"),
    (["kernel", "MISSING.png"], "could not read image 'missing.png'"),
    (["kernel", "NOT_IMAGE"], "could not read image"),
    (["kernel", "IMG", "--out", "DIR"], "it is a directory"),
    (["runs"], "not a database"),  # in the home whose run store is not a database
    (["runs", "list"], "not a database"),
    (["runs", "compare", "RUN"], "at least 2 runs"),
    (["report", "BARE"], "has no checkpoint"),
    (["export", "BARE"], "has no checkpoint"),
    (["export", "RUN", "--out", "DIR"], "it is a directory"),
    (["import-weights", "MISSING.h5", "--model", "lenet"], "no weights file"),
    (["import-weights", "NOT_IMAGE", "--model", "lenet"], "is not a weights file"),
    (["import-weights", "DIR", "--model", "lenet"], "DIR"),
    (["serve", "--store", "MISSING_DIR"], "no run store"),
]
CORRUPT_STORE = {("runs",), ("runs", "list")}  # the SEMANTIC rows run in the corrupt home

# --------------------------------------------------------------------------- generated cases


def generated_cases() -> list[tuple[list[str], int, str]]:
    """(argv, exit code, message) from the parser: usage errors and nonexistent runs."""
    cases = []
    for path, parser in PATHS.items():
        name = " ".join(("cnnlab", *path))
        base = [*path, *filler(parser)]
        cases.append(([*base, "--no-such-option"], 2,
                      f"{name}: error: unrecognized arguments: --no-such-option"))
        if any(not a.option_strings and a.nargs != "?" for a in own_actions(parser)):
            cases.append(([*path], 2, f"{name}: error: the following arguments are required"))
        for action in own_actions(parser):
            option = action.option_strings[0] if action.option_strings else None
            if action.type in (int, float) and option:
                what = "an integer" if action.type is int else "a number"
                for value in ("many", "", "1.5x") + (("1.5",) if action.type is int else ()):
                    cases.append(([*base, option, value], 2,
                                  f"argument {option}: expected {what}, got {value!r}"))
            if action.choices is not None:
                bad = max(action.choices) + 1 if action.type is int else "bogus"
                if option:
                    argv = [*base, option, str(bad)]
                else:
                    argv = [*path, *filler(parser, **{action.dest: [str(bad)]})]
                cases.append((argv, 2, f"argument {action.metavar or option or action.dest}: "
                                       f"invalid choice: {bad!r}"))
            if action.type is shape_option:
                for value in ("a,b", "0,28,1", "28,-1,1", "99999,28,1"):
                    cases.append(([*base, option, value], 2,
                                  f"argument {option}: expected a shape of integers"))
            if action.dest in ("run", "run_ids", "resume"):
                if option:
                    argv = [*base, option, NO_RUN]
                else:
                    argv = [*path, *filler(parser, **{action.dest: [NO_RUN, "RUN"][
                        :len(VALID[action.dest])]})]
                cases.append((argv, 1, f"no run {NO_RUN!r}"))
    for (command, option), values in BAD_NUMBERS.items():
        base = [command, *filler(PATHS[(command,)])]
        cases += [([*base, option, value], 1, f"{option} must be") for value in values]
    return cases


def semantic_cases() -> list[tuple[list[str], int, str]]:
    return [(argv, 1, message) for argv, message in SEMANTIC]


CASES = generated_cases() + semantic_cases()


def case_id(case: tuple[list[str], int, str]) -> str:
    return " ".join(case[0])[:80] or "(none)"


# ------------------------------------------------------------------------------- the homes
def _write_files(folder: Path) -> None:
    Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8)).save(folder / "digit.png")
    (folder / "not-an-image.png").write_text("plain text, not a PNG")
    (folder / "a-folder").mkdir()


@pytest.fixture(scope="module")
def homes(tmp_path_factory) -> dict:
    """A home with a trained run (RUN) and a run without checkpoint (BARE), and a home whose
    run store is not a database."""
    from cnnlab.runs.store import RunStore

    home = tmp_path_factory.mktemp("home")
    _write_files(home)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CNNLAB_HOME", str(home))
        patch.chdir(home)
        assert main(["train", "--data", "digits", "--limit", "64", "--epochs", "1",
                     "--batch-size", "32", "--no-report", "--verbose", "0"]) == 0
    store = RunStore(home / "runs" / "cnnlab.db")
    run = store.list()[0].id
    bare = store.create("bare", model="lenet", dataset="digits", config={"data": "digits"})
    corrupt = tmp_path_factory.mktemp("corrupt")
    _write_files(corrupt)
    (corrupt / "runs").mkdir()
    (corrupt / "runs" / "cnnlab.db").write_bytes(b"this is not an SQLite database\n" * 64)
    return {"home": home, "corrupt": corrupt, "RUN": run, "BARE": bare}


def concrete(argv: list[str], homes: dict, home: Path) -> list[str]:
    names = {"RUN": homes["RUN"], "BARE": homes["BARE"], "IMG": "digit.png",
             "NOT_IMAGE": "not-an-image.png", "DIR": "a-folder",
             "MISSING.png": "missing.png", "MISSING.h5": "missing.h5",
             "MISSING_DIR": str(home / "missing-folder")}
    return [names.get(arg, arg) for arg in argv]


def home_of(argv: list[str], homes: dict) -> Path:
    return homes["corrupt"] if tuple(argv) in CORRUPT_STORE else homes["home"]


def run_main(argv: list[str], home: Path, monkeypatch, capsys) -> tuple[int, str, str]:
    monkeypatch.setenv("CNNLAB_HOME", str(home))
    monkeypatch.chdir(home)
    capsys.readouterr()
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def clean(code: int, out: str, err: str, expected_code: int, message: str) -> list[str]:
    """What is wrong with this error report (empty: a clean error)."""
    problems = []
    if code != expected_code:
        problems.append(f"exit code {code}, expected {expected_code}")
    if not (err.startswith("cnnlab") and "error: " in err.splitlines()[0] if err else False):
        problems.append("stderr does not start with 'cnnlab ...: error:'")
    if err.count("\n") != 1 or not err.endswith("\n"):
        problems.append(f"stderr has {err.count(chr(10))} lines, expected 1")
    if "Traceback" in err + out:
        problems.append("a traceback was printed")
    if message not in err:
        problems.append(f"the message lacks {message!r}")
    return problems


def run_count(home: Path) -> int:
    from cnnlab.runs.store import RunStore

    db = home / "runs" / "cnnlab.db"
    return len(RunStore(db).list()) if db.exists() else 0


# ------------------------------------------------------------------------------------ tests
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_bad_command_line_gives_one_clean_line(case, homes, monkeypatch, capsys):
    argv, expected_code, message = case
    home = home_of(argv, homes)
    argv = concrete(argv, homes, home)
    message = concrete([message], homes, home)[0]
    runs_before = run_count(homes["home"])
    try:
        code, out, err = run_main(argv, home, monkeypatch, capsys)
    except BaseException:
        tally.record(FIGURE, held=False)
        raise
    problems = clean(code, out, err, expected_code, message)
    if argv[0] == "train" and run_count(homes["home"]) != runs_before:
        problems.append("a failed `cnnlab train` recorded a run")
    tally.record(FIGURE, held=not problems)
    assert not problems, f"cnnlab {' '.join(argv)}: {'; '.join(problems)}\nstderr: {err!r}"


def path_of(argv: list[str]) -> tuple[str, ...]:
    """The command (``('runs', 'compare')``) that ``argv`` runs."""
    return max((p for p in PATHS if tuple(argv[:len(p)]) == p), key=len)


def debug_cases() -> list[tuple[list[str], int, str]]:
    """One error (exit code 1) of every command, to be shown with its traceback."""
    first: dict[tuple[str, ...], tuple] = {}
    for case in CASES:
        if case[1] == 1:
            first.setdefault(path_of(case[0]), case)
    return list(first.values())


@pytest.mark.parametrize("case", debug_cases(), ids=case_id)
def test_debug_after_the_command_raises_the_error(case, homes, monkeypatch, capsys):
    argv, _, _ = case
    home = home_of(argv, homes)
    argv = concrete(argv, homes, home)
    monkeypatch.setenv("CNNLAB_HOME", str(home))
    monkeypatch.chdir(home)
    raised = None
    try:
        main([*argv, "--debug"])
    except Exception as err:  # noqa: BLE001 -- any exception is the traceback being shown
        raised = err
    tally.record(FIGURE, held=raised is not None)
    assert raised is not None, f"cnnlab {' '.join(argv)} --debug did not raise"


def test_the_tables_cover_every_command_and_number():
    """A new command needs an error of its own (exit 1) in SEMANTIC or BAD_NUMBERS (or one
    generated from a run id), and a new numeric option its bad values in BAD_NUMBERS."""
    numeric = {(path[0], a.option_strings[0]) for path, parser in PATHS.items()
               for a in numeric_options(parser)}
    assert numeric == set(BAD_NUMBERS), (
        f"numeric options without bad values: {sorted(numeric - set(BAD_NUMBERS))}; rows "
        f"for options that are gone: {sorted(set(BAD_NUMBERS) - numeric)}")
    covered = {path_of(case[0]) for case in debug_cases()}
    assert covered == set(PATHS), f"commands without an error case: {set(PATHS) - covered}"


@pytest.mark.parametrize("error, line", [
    (ZeroDivisionError("division by zero"),
     "ZeroDivisionError: division by zero (cnnlab --debug ... shows the traceback)"),
    (MemoryError("Unable to allocate 298. GiB"), "out of memory (Unable to allocate 298. GiB)"),
    (RuntimeError("Overflow when unpacking long\nException raised from c10::Error\nframe #0"),
     "Overflow when unpacking long"),
])
def test_any_exception_is_one_line(error, line, monkeypatch, capsys, tmp_path):
    """Errors no check foresaw (a bug, memory, a PyTorch message with its C++ stack)."""
    import cnnlab.cli

    def fail(args):
        raise error

    monkeypatch.setitem(cnnlab.cli.COMMANDS, "summary", fail)
    code, out, err = run_main(["summary", "lenet"], tmp_path, monkeypatch, capsys)
    assert (code, err) == (1, f"cnnlab: error: {line}\n")
    with pytest.raises(type(error)):
        main(["summary", "lenet", "--debug"])


# ------------------------------------------------------------------ as users run it: processes
def cnnlab(home: Path, *args: str, stdout: int | None = subprocess.PIPE):
    env = {**os.environ, "CNNLAB_HOME": str(home), "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, "-m", "cnnlab", *args], stdout=stdout,
                          stderr=subprocess.PIPE, text=True, env=env, cwd=home, timeout=300)


@pytest.mark.parametrize("args, code, message", [
    (("predict", NO_RUN, "x.png", "--topp", "2"), 2,
     "cnnlab predict: error: unrecognized arguments: --topp 2"),
    (("serve", "--port", "70000"), 1, "--port must be in [0, 65535]"),
])
def test_errors_in_a_real_process_are_one_line(tmp_path, args, code, message):
    done = cnnlab(tmp_path, *args)
    problems = clean(done.returncode, done.stdout, done.stderr, code, message)
    tally.record(FIGURE, held=not problems)
    assert not problems, f"{args}: {problems}\nstderr: {done.stderr!r}"


def test_debug_prints_the_traceback(tmp_path):
    done = cnnlab(tmp_path, "--debug", "explain", "conv", "--padding", "100000")
    held = done.returncode == 1 and "Traceback (most recent call last)" in done.stderr
    tally.record(FIGURE, held=held)
    assert held, f"exit {done.returncode}, stderr {done.stderr[-1500:]!r}"


def test_a_closed_stdout_is_not_an_error(tmp_path):
    """``cnnlab runs | head -0``: the reader is gone; no traceback, no message."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = cnnlab(tmp_path, "summary", "lenet", stdout=write)
    finally:
        os.close(write)
    held = done.returncode == 1 and done.stderr == ""
    tally.record(FIGURE, held=held)
    assert held, f"exit {done.returncode}, stderr {done.stderr[-1500:]!r}"
