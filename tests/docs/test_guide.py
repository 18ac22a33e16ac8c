"""The user guide's snippets run, so the guide cannot rot.

Every ```python block of every page of ``docs/guide/*.md`` (and of the walk-throughs in
:data:`WALKTHROUGHS`) runs, in order, in one namespace
per page, in a fresh temporary working folder that is also ``$CNNLAB_HOME`` (matplotlib on
Agg). Blocks fenced as ```sh test run too, line by line: a ``cnnlab ...`` line through
``cnnlab.cli.main`` in this process (it must return 0), any other line with ``bash -c``.
A block preceded by a ``<!-- skip-test -->`` line is not run (used sparingly: downloads of
weights that are not on this machine, multi-process launches).

A failure names the page (the test id) and the Markdown line of the failing statement: each
block is compiled with the page as file name and its own line numbers, so the traceback points
into the .md file.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "guide"
SKIP_MARKER = "<!-- skip-test -->"
FENCE = re.compile(r"^```(?P<info>[^`]*)$")
# Pages whose snippets train models or build large ones (a few seconds or more each).
SLOW_PAGES = {"getting-started.md", "explain.md", "zoo.md", "runs-and-cli.md",
              "transfer-learning.md", "augmentation.md", "performance.md", "transfer.md"}
WALKTHROUGHS = [ROOT / "docs" / "transfer.md"]  # pages outside the guide that also run


@dataclass(frozen=True)
class Block:
    kind: str  # "python" or "sh"
    line: int  # line of the first code line in the page (1-based)
    code: str
    skip: bool


def extract_blocks(text: str) -> list[Block]:
    """The ```python blocks and ```sh test blocks of a Markdown page, in order."""
    lines = text.splitlines()
    blocks, i = [], 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        info = match.group("info").split()
        start = i + 1
        end = start
        while end < len(lines) and lines[end].rstrip() != "```":
            end += 1
        if end == len(lines):
            raise ValueError(f"unclosed code fence at line {i + 1}")
        previous = next((ln.strip() for ln in reversed(lines[:i]) if ln.strip()), "")
        kind = None
        if info[:1] == ["python"]:
            kind = "python"
        elif info[:1] in (["sh"], ["bash"]) and "test" in info[1:]:
            kind = "sh"
        if kind:
            blocks.append(Block(kind, start + 1, "\n".join(lines[start:end]),
                                skip=previous == SKIP_MARKER))
        i = end + 1
    return blocks


def guide_pages() -> list[Path]:
    return sorted(GUIDE.glob("*.md")) + WALKTHROUGHS


def page_params() -> list:
    return [pytest.param(page, id=page.name,
                         marks=[pytest.mark.slow] if page.name in SLOW_PAGES else [])
            for page in guide_pages()]


def run_python(block: Block, page: Path, namespace: dict) -> None:
    # Padding with newlines gives the traceback the page's own line numbers.
    code = compile("\n" * (block.line - 1) + block.code, str(page), "exec")
    exec(code, namespace)


def run_shell(block: Block) -> None:
    from cnnlab import cli

    for command in _commands(block.code):
        argv = shlex.split(command, comments=True)
        if not argv:
            continue
        if argv[0] == "cnnlab":
            status = cli.main(argv[1:])
            assert status == 0, f"`{command}` exited with {status}"
        else:
            done = subprocess.run(["bash", "-c", command], capture_output=True, text=True)
            sys.stdout.write(done.stdout)
            assert done.returncode == 0, f"`{command}` exited with {done.returncode}: " \
                                         f"{done.stderr}"


def _commands(code: str) -> list[str]:
    """Shell lines, with backslash continuations joined."""
    commands, current = [], ""
    for line in code.splitlines():
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        commands.append(current + line)
        current = ""
    if current:
        commands.append(current)
    return commands


@pytest.fixture
def guide_folder(tmp_path, monkeypatch):
    """A fresh working folder that is also the run store's home; global state reset after."""
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("CNNLAB_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    import matplotlib.pyplot as plt

    from cnnlab import device, mixed_precision

    plt.close("all")
    mixed_precision.set_global_policy("float32")
    device.set_device(None)


def test_guide_has_pages_and_snippets():
    pages = guide_pages()
    assert pages, f"no pages in {GUIDE}"
    counts = {page.name: len(extract_blocks(page.read_text())) for page in pages}
    assert sum(counts.values()) > 0, "no ```python snippets found in the guide"
    assert all(counts.values()), f"pages without snippets: {counts}"


def test_mkdocs_nav_lists_every_page():
    nav = (ROOT / "mkdocs.yml").read_text()
    listed = set(re.findall(r"guide/([\w.-]+\.md)", nav))
    assert listed == {page.name for page in sorted(GUIDE.glob("*.md"))}
    for page in WALKTHROUGHS:
        assert f": {page.relative_to(ROOT / 'docs').as_posix()}" in nav


def test_pictures_and_links_exist():
    """Every picture a page shows is committed in docs/guide/img, and every relative link
    (to another page, to docs/*.md) points at a file."""
    missing = []
    for page in guide_pages():
        for link in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            target = link.split("#")[0]
            if target and "://" not in target and not (page.parent / target).is_file():
                missing.append((page.name, link))
    assert not missing, f"missing pictures or pages: {missing}"


@pytest.mark.slow
def test_make_pictures_draws_every_picture(tmp_path):
    """docs/guide/make_pictures.py --quick runs and writes every picture the pages show."""
    shown = {Path(link).name for page in guide_pages()
             for link in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", page.read_text())}
    assert shown, "the guide shows no pictures"
    env = {**os.environ, "MPLBACKEND": "Agg", "CNNLAB_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, str(GUIDE / "make_pictures.py"), "--quick", "--out",
                           str(tmp_path / "img")], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    drawn = {path.name for path in (tmp_path / "img").glob("*.png")}
    assert shown <= drawn, f"pictures the script does not draw: {sorted(shown - drawn)}"


def test_extract_blocks_reads_markers():
    text = "\n".join(["# t", "```python", "a = 1", "```", "<!-- skip-test -->", "",
                      "```python", "raise SystemExit", "```", "```sh test", "cnnlab runs", "```",
                      "```sh", "cnnlab train", "```", "```text", "x", "```"])
    blocks = extract_blocks(text)
    assert [(b.kind, b.line, b.skip) for b in blocks] == [
        ("python", 3, False), ("python", 8, True), ("sh", 11, False)]


@pytest.mark.parametrize("page", page_params())
def test_page(page: Path, guide_folder: Path):
    blocks = extract_blocks(page.read_text())
    assert blocks, f"{page.name} has no ```python snippets"
    namespace: dict = {"__name__": "__guide__"}
    for block in blocks:
        if block.skip:
            continue
        failure = None
        try:
            if block.kind == "python":
                run_python(block, page, namespace)
            else:
                run_shell(block)
        except BaseException as err:  # SystemExit from a CLI usage error too
            detail = "".join(traceback.format_exception(type(err), err, err.__traceback__))
            failure = (f"{page.name}: the {block.kind} block at line {block.line} failed: "
                       f"{type(err).__name__}: {err}\n{detail}")
        if failure:
            pytest.fail(failure, pytrace=False)


if __name__ == "__main__":  # python tests/docs/test_guide.py: list the snippets
    for page in guide_pages():
        for block in extract_blocks(page.read_text()):
            print(f"{page.name}:{block.line} {block.kind}{' (skipped)' if block.skip else ''}")
    sys.exit(os.EX_OK)
