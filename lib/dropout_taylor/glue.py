"""Glue computed values into the book's prose, rounded and as plain Python numbers.

The prose never types a computed number: a chapter computes it, rounds it here and glues it;
the text refers to it with ``{glue:text}`key:.3f``` (same page) or
``{glue:text}`chapters/page.ipynb::key:.3f``` (another page). The output format is the one
``myst_nb.glue`` writes (a display output carrying ``scrapbook`` metadata), produced here so
that chapters run in Binder without the book-building tools installed.

Rules enforced here (see CONTRIBUTING.md): values are rounded before they are glued, so the
stored output is the same on every machine; numpy and mpmath scalars become ``float`` (format
specs such as ``:.3f`` need a plain float); figures are not glued (a glued PNG would be compared
byte for byte by nbval): give the figure cell ``mystnb.figure`` metadata instead.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from IPython.core.formatters import format_display_data
from IPython.display import display

_PREFIX = "application/papermill.record/"


def rounded(value: Any, sig: int | None = None, decimals: int | None = None) -> Any:
    """``value`` as a plain ``int``/``float``/``str``/``bool``, rounded to ``sig`` significant
    digits or to ``decimals`` decimal places (exactly one of them for a non-integer number)."""
    if isinstance(value, str | bool):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"value must be a number, a string or a bool, got {type(value).__name__}") from None
    if not math.isfinite(x):
        raise ValueError(f"value must be finite, got {x}")
    if (sig is None) == (decimals is None):
        raise ValueError("give exactly one of sig (significant digits) or decimals for a float")
    if decimals is not None:
        return round(x, decimals)
    if sig < 1:
        raise ValueError(f"sig must be an integer >= 1, got {sig}")
    return float(f"{x:.{sig - 1}e}")


def glue(name: str, value: Any, sig: int | None = None, decimals: int | None = None) -> Any:
    """Round ``value`` (see :func:`rounded`) and glue it under ``name``; return the glued value.

    Nothing is displayed in the cell; the value appears where the prose references ``name``.
    """
    if not isinstance(name, str) or not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"name must be letters, digits, '_' or '-', got {name!r}")
    value = rounded(value, sig=sig, decimals=decimals)
    bundle, metadata = format_display_data(value)
    metadata["scrapbook"] = {"name": name, "mime_prefix": _PREFIX}
    display({_PREFIX + k: v for k, v in bundle.items()}, raw=True, metadata=metadata)
    return value
