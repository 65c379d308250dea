"""The shared argument checks: every message names the argument and the allowed range."""

import numpy as np
import pytest

from dropout_taylor import _validate


def test_order_bounds():
    assert _validate.order(3, "k", high=5, low=1) == 3
    with pytest.raises(ValueError, match=r"k must be an integer >= 1, got 0"):
        _validate.order(0, "k", high=5, low=1)
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, 5\], got 6"):
        _validate.order(6, "k", high=5, low=1)
    with pytest.raises(ValueError, match="k must be an integer >= 0"):
        _validate.order(True, "k")


def test_real():
    assert _validate.real(np.float64(2.5), "t") == 2.5
    for bad, message in [(np.nan, "t must be finite"), ([1.0, 2.0], "t must be a single real"),
                         (True, "t must be a single finite real")]:
        with pytest.raises(ValueError, match=message):
            _validate.real(bad, "t")
