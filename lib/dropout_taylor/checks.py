"""Numerical checks that print a short, machine-independent verdict and fail loudly.

A chapter states a theorem, then calls :func:`assert_close` (or :func:`assert_true`) against an
independent oracle. The check raises ``AssertionError`` when it fails, so the cell, nbval and
the build fail with it; when it passes it returns a :class:`Check` whose printed form gives the
largest error to two significant digits, or "below 1e-10" for rounding-level errors, which
differ between machines and BLAS builds.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

#: Printed checks wrap at this width: the code and output boxes of the site show about 80.
WIDTH = 78


@dataclass(frozen=True)
class Check:
    """The outcome of one check: what was compared, the largest error and the tolerance."""

    name: str
    max_error: float
    tolerance: float
    kind: str = "relative"
    count: int = 1

    @property
    def passed(self) -> bool:
        return bool(self.max_error <= self.tolerance)

    @property
    def verdict(self) -> str:
        return "holds" if self.passed else "fails"

    def __repr__(self) -> str:
        if self.kind == "count":
            failing = int(self.max_error)
            outcome = f"{self.count - failing} of {self.count} cases hold: {self.verdict}"
        else:
            cases = f" over {self.count} cases" if self.count > 1 else ""
            # rounding-level errors differ between machines and BLAS builds: print a bound
            error = f"{self.max_error:.1e}" if self.max_error >= 1e-10 else "below 1e-10"
            outcome = (
                f"largest {self.kind} error {error}{cases} "
                f"(tolerance {self.tolerance:.0e}): {self.verdict}"
            )
        one_line = f"{self.name}: {outcome}"
        if len(one_line) <= WIDTH:
            return one_line
        # what was compared on the first line(s), the outcome indented below
        name = textwrap.fill(f"{self.name}:", WIDTH, break_on_hyphens=False)
        return name + "\n" + textwrap.fill(
            outcome, WIDTH, initial_indent="    ", subsequent_indent="    "
        )


def report(*checks: Check) -> None:
    """Print each check on its own line(s): the form every chapter uses for its verdicts."""
    for check in checks:
        print(repr(check))


def assert_close(
    name: str,
    actual: ArrayLike,
    expected: ArrayLike,
    rtol: float = 1e-12,
    atol: float = 0.0,
) -> Check:
    """Check ``|actual - expected| <= atol + rtol |expected|`` elementwise; raise if it fails.

    The reported error is the largest ``|actual - expected| / (atol / rtol + |expected|)``
    (the relative error, softened by ``atol`` near zero) and the tolerance is ``rtol``.
    """
    a = np.asarray(actual, dtype=float)
    e = np.asarray(expected, dtype=float)
    if a.shape != e.shape and a.size != 1 and e.size != 1:
        raise ValueError(f"actual and expected must have the same shape, got {a.shape} and {e.shape}")
    if rtol <= 0:
        raise ValueError(f"rtol must be > 0, got {rtol}")
    scale = atol / rtol + np.abs(e)
    with np.errstate(divide="ignore", invalid="ignore"):
        err = np.where(scale > 0, np.abs(a - e) / np.where(scale > 0, scale, 1.0), np.abs(a - e))
    if not np.all(np.isfinite(err)):
        raise AssertionError(f"{name}: non-finite values in the comparison")
    check = Check(name, float(np.max(err, initial=0.0)), rtol, "relative", int(np.size(err)))
    if not check.passed:
        raise AssertionError(repr(check))
    return check


def assert_true(name: str, condition: ArrayLike) -> Check:
    """Check that every entry of a boolean array holds; raise if one does not."""
    cond = np.asarray(condition, dtype=bool)
    failures = int(np.size(cond) - np.count_nonzero(cond))
    check = Check(name, float(failures), 0.0, "count", int(np.size(cond)))
    if not check.passed:
        raise AssertionError(f"{name}: {failures} of {np.size(cond)} cases fail")
    return check
