"""The ledger reader: glued values and verdicts from stored notebooks."""

import json

import pytest

from dropout_taylor.ledger import glued_values, verdict


def _notebook(tmp_path, glued):
    outputs = [
        {
            "output_type": "display_data",
            "metadata": {"scrapbook": {"name": k, "mime_prefix": "application/papermill.record/"}},
            "data": {"application/papermill.record/text/plain": repr(v)},
        }
        for k, v in glued.items()
    ]
    cell = {"cell_type": "code", "source": "", "metadata": {}, "outputs": outputs}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": [cell]}))
    return path


def test_reads_values_and_verdicts(tmp_path):
    path = _notebook(tmp_path, {"x": 1.5, "verdict_a": "holds", "verdict_b": "maybe"})
    assert glued_values(path) == {"x": 1.5, "verdict_a": "holds", "verdict_b": "maybe"}
    assert verdict(path, "verdict_a") == "holds"
    with pytest.raises(ValueError, match="must be one of"):
        verdict(path, "verdict_b")
    with pytest.raises(ValueError, match="is not glued"):
        verdict(path, "verdict_c")
    with pytest.raises(ValueError, match="notebook must be an existing"):
        glued_values(tmp_path / "missing.ipynb")


def test_claim_verdict_rules():
    from dropout_taylor.ledger import claim_verdict

    assert claim_verdict(["holds", "holds"], "holds") == "holds"
    assert claim_verdict(["holds", "holds with qualification"], "qualified") == "holds with qualification"
    assert claim_verdict(["holds"], "refuted") == "refuted"
    assert claim_verdict(["holds", "holds with qualification"], "holds") == "holds with qualification"
    assert claim_verdict(["holds", "fails"], "holds") == "fails"
    assert claim_verdict(["holds", "refuted"], "holds") == "refuted"
    assert claim_verdict(["refuted"], "refuted") == "refuted"
    assert claim_verdict(["holds with qualification"], "qualified") == "holds with qualification"
    with pytest.raises(ValueError, match="rule must be one of"):
        claim_verdict(["holds"], "maybe")
    with pytest.raises(ValueError, match="at least one"):
        claim_verdict([], "holds")
