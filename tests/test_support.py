"""The glue and check helpers used by every chapter."""

import numpy as np
import pytest

from dropout_taylor.checks import assert_close, assert_true
from dropout_taylor.glue import rounded


def test_assert_close_passes_and_reports():
    check = assert_close("x", [1.0, 2.0], [1.0, 2.0 + 1e-15])
    assert check.passed and check.verdict == "holds" and "holds" in repr(check)


def test_assert_close_fails_loudly():
    with pytest.raises(AssertionError, match="fails"):
        assert_close("x", [1.0], [1.1], rtol=1e-3)
    with pytest.raises(AssertionError, match="non-finite"):
        assert_close("x", [np.nan], [1.0])


def test_assert_true_counts_failures():
    assert assert_true("ok", [True, True]).count == 2
    with pytest.raises(AssertionError, match="1 of 3 cases fail"):
        assert_true("bad", [True, False, True])


def test_rounded_gives_plain_python_numbers():
    value = rounded(np.float64(3.14159265), sig=3)
    assert type(value) is float and value == 3.14
    assert rounded(np.int64(7)) == 7 and type(rounded(np.int64(7))) is int
    assert rounded(123456.0, sig=2) == 120000.0
    assert rounded(0.000123456, decimals=5) == 0.00012
    with pytest.raises(ValueError, match="exactly one of sig"):
        rounded(1.5)
    with pytest.raises(ValueError, match="must be finite"):
        rounded(float("inf"), sig=2)


def test_rounding_level_errors_print_as_a_bound():
    assert "below 1e-10" in repr(assert_close("x", [1.0], [1.0]))
    assert "2.0e-06" in repr(assert_close("x", [1.000002], [1.0], rtol=1e-5))


def test_long_checks_wrap_to_the_page_width(capsys):
    from dropout_taylor.checks import WIDTH, report

    long = assert_close("a rather long description of what was compared " * 2, [1.0], [1.0])
    text = repr(long)
    assert all(len(line) <= WIDTH for line in text.splitlines())
    assert text.splitlines()[-1].startswith("    largest relative error below 1e-10")
    short = assert_true("ok", [True])
    report(short, long)
    assert capsys.readouterr().out == repr(short) + "\n" + text + "\n"
