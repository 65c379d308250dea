"""Re-execute notebooks in place so their outputs can be committed.

Usage: python tools/execute.py chapters/01_noise_injection.ipynb [more.ipynb ...]
       (no argument: every chapter). Runs with the chapter's folder as working directory, in
       the current environment's kernel, the way nbval and the book see it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    resources = {"metadata": {"path": str(path.parent)}}
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", record_timing=False, resources=resources
    )
    client.execute()
    elapsed = time.perf_counter() - start
    nbformat.write(nb, path)
    return elapsed


def main(argv: list[str]) -> int:
    root = Path(__file__).resolve().parent.parent
    paths = [Path(p) for p in argv] or sorted((root / "chapters").glob("*.ipynb"))
    for path in paths:
        print(f"{path}: executed in {execute(path):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
