"""Read the verdicts that the chapters glued, for the claims ledger (chapter 7).

Each chapter glues, next to the check that establishes a claim, a key ``verdict_<name>`` whose
value is computed by that check (``holds``, ``refuted``, ``holds with qualification``, ...).
The ledger page shows them with ``{glue:text}`` references; this module reads the same stored
outputs so the ledger's own cell can assert that every referenced verdict exists and is one of
the allowed words, and count them.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

_PREFIX = "application/papermill.record/"
VERDICTS = ("holds", "holds with qualification", "refuted", "fails")

#: How a claim's verdict follows from the verdicts glued by the checks that bear on it:
#: ``holds`` - the claim is exactly as strong as its weakest evidence (a check may itself
#: have glued ``holds with qualification`` or ``refuted`` for the claim it tests);
#: ``qualified`` - the checks establish a precise version that adds conditions to the claim;
#: ``refuted`` - the checks establish a counterexample or a contrary statement.
RULES = {"holds": "holds", "qualified": "holds with qualification", "refuted": "refuted"}


def glued_values(notebook: str | Path) -> dict[str, object]:
    """All values glued in a stored notebook: ``{key: value}`` (text/plain parsed as a literal)."""
    path = Path(notebook)
    if not path.exists():
        raise ValueError(f"notebook must be an existing .ipynb file, got {path}")
    cells = json.loads(path.read_text())["cells"]
    values: dict[str, object] = {}
    for cell in cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            text = output.get("data", {}).get(_PREFIX + "text/plain")
            if name and text is not None:
                text = "".join(text) if isinstance(text, list) else text
                try:
                    values[name] = ast.literal_eval(text)
                except (ValueError, SyntaxError):
                    values[name] = text
    return values


def verdict(notebook: str | Path, key: str) -> str:
    """The verdict glued under ``key`` in ``notebook``; ``ValueError`` if missing or not a verdict."""
    values = glued_values(notebook)
    if key not in values:
        raise ValueError(f"key {key!r} is not glued in {notebook}")
    value = values[key]
    if value not in VERDICTS:
        raise ValueError(f"{notebook}::{key} must be one of {VERDICTS}, got {value!r}")
    return str(value)


def claim_verdict(evidence: list[str], rule: str) -> str:
    """The verdict on a claim from the verdicts of its evidence (chapter 7).

    A check that fails makes its chapter, and the build, fail first; should a ``fails`` ever be
    glued, the claim's verdict is ``fails``. Otherwise the rule says what the established
    evidence means for the claim (see :data:`RULES`): a claim is never stronger than its
    weakest evidence.
    """
    if rule not in RULES:
        raise ValueError(f"rule must be one of {tuple(RULES)}, got {rule!r}")
    if not evidence:
        raise ValueError("evidence must name at least one glued verdict")
    for value in evidence:
        if value not in VERDICTS:
            raise ValueError(f"evidence values must be one of {VERDICTS}, got {value!r}")
    if "fails" in evidence:
        return "fails"
    if rule == "refuted":
        return "refuted"
    weakest = min(evidence, key=VERDICTS[::-1].index)  # order: fails < refuted < ... < holds
    if rule == "qualified" and weakest == "holds":
        return "holds with qualification"
    return weakest
