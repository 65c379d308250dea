"""Benchmark the book: chapter execution, nbval, the full build, a fresh install, and the
sections in bench/bench_*.py. Prints a Markdown table (paste it into the README).

Usage: python bench/run.py [--skip-install] [--skip-build]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def timed(command: list[str], **kwargs) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, capture_output=True, **kwargs)
    return time.perf_counter() - start


def chapter_rows() -> list[tuple[str, str, str]]:
    rows = []
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        resources = {"metadata": {"path": str(path.parent)}}
        NotebookClient(nb, timeout=600, kernel_name="python3", resources=resources).execute()
        rows.append((f"execute `{path.name}`", f"{time.perf_counter() - start:.1f}", "s"))
    return rows


def tool_rows(skip_install: bool, skip_build: bool) -> list[tuple[str, str, str]]:
    python = str(BIN / "python")
    rows = [
        ("unit tests (`pytest tests`)", f"{timed([python, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'tests']):.1f}", "s"),
        ("nbval over every chapter", f"{timed([python, '-m', 'pytest', '-q', '--nbval', '--nbval-current-env', '--nbval-sanitize-with', 'tests/sanitize.cfg', '-p', 'no:cacheprovider', 'chapters']):.1f}", "s"),
    ]
    if not skip_build:
        with tempfile.TemporaryDirectory() as out:
            seconds = timed([str(BIN / "jupyter-book"), "build", ".", "--all", "-W", "-n", "--keep-going", "--path-output", out])
        rows.append(("site build (`jupyter-book build --all -W -n`)", f"{seconds:.1f}", "s"))
    if not skip_install:
        with tempfile.TemporaryDirectory() as venv:
            seconds = timed([sys.executable, "-m", "venv", venv])
            seconds += timed([f"{venv}/bin/python", "-m", "pip", "install", "-q", "-r", "requirements-dev.txt"])
        rows.append(("fresh install (venv + `pip install -r requirements-dev.txt`)", f"{seconds:.0f}", "s"))
    return rows


def section_rows() -> list[tuple[str, str, str]]:
    rows = []
    for path in sorted(Path(__file__).parent.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        rows.extend(module.rows())
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-install", action="store_true")
    parser.add_argument("--skip-build", action="store_true")
    args = parser.parse_args()
    os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ['PATH']}"
    rows = chapter_rows() + tool_rows(args.skip_install, args.skip_build) + section_rows()
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores, Python {platform.python_version()}.",
        "",
        "| what | value | unit |",
        "| --- | ---: | --- |",
        *[f"| {what} | {value} | {unit} |" for what, value, unit in rows],
    ]
    table = "\n".join(lines)
    print(table)
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "latest.md").write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
