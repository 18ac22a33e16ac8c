"""Reliability and security figures (issue 14): run the attack, fault and fuzz tests of
``tests/reliability`` and print what they tried and how cnnlab held.

    .venv/bin/python bench/reliability.py            # the suite's profile (about 3 minutes)
    .venv/bin/python bench/reliability.py --long     # hypothesis 'long' profile, 1M-image stream

Every test records its trials in ``tests/reliability/tally.py``; this script points the tally
at a temporary file (``CNNLAB_RELIABILITY_TALLY``), runs pytest on the folder in a child
process, then prints one row per figure: trials and how many held (for "fuzz cases /
unclean", the number that were *not* clean). The tests themselves assert every trial, so a
non-zero pytest status is reported and returned.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests" / "reliability"
sys.path.insert(0, str(TESTS))

from tally import ENV, FIGURES  # noqa: E402


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        return next(line.split(":", 1)[1].strip() for line in out.splitlines()
                    if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        return platform.processor() or "unknown"


def run(long: bool, pytest_args: list[str]) -> tuple[int, dict, float]:
    """Run the reliability tests; return (pytest status, {figure: (trials, held)}, seconds)."""
    with tempfile.TemporaryDirectory() as folder:
        tally_file = Path(folder) / "tally.json"
        env = {**os.environ, ENV: str(tally_file),
               "CNNLAB_FUZZ_PROFILE": "long" if long else "ci"}
        start = time.perf_counter()
        status = subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                  str(TESTS), *pytest_args], cwd=ROOT, env=env)
        seconds = time.perf_counter() - start
        counts = json.loads(tally_file.read_text()) if tally_file.exists() else {}
    return status, counts, seconds


def table(counts: dict) -> str:
    rows = ["| figure | trials | result |", "|---|---|---|"]
    for figure in FIGURES:
        trials, held = counts.get(figure, (0, 0))
        if figure == "fuzz cases / unclean":
            result = f"{trials - held:,} unclean"
        else:
            result = f"{held:,} held" + ("" if held == trials else f" ({trials - held:,} FAILED)")
        rows.append(f"| {figure} | {trials:,} | {result} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--long", action="store_true",
                        help="hypothesis 'long' profile and the 1,000,000-image stream")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)
    status, counts, seconds = run(args.long, args.pytest_args)
    print(f"\nreliability figures ({'long' if args.long else 'ci'} profile), "
          f"{time.strftime('%Y-%m-%d %H:%M')}, {cpu_model()}, {os.cpu_count()} CPUs, "
          f"{seconds:.0f} s, pytest status {status}\n")
    print(table(counts))
    return status


if __name__ == "__main__":
    sys.exit(main())
