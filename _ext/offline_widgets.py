"""Serve the Jupyter widgets HTML manager with the site instead of from a CDN.

myst-nb adds the scripts listed in ``nb_ipywidgets_js`` to every page whose notebook stores
widget state; by default they come from public CDNs. This extension points that setting at
``_static/widgets/embed.js`` (the standalone bundle of ``@jupyter-widgets/html-manager``, which
includes the standard controls and needs no RequireJS) and copies the bundle and its fonts there
after the build, from ``node_modules`` (installed by ``npm ci``; see ``package.json``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

DIST = Path("node_modules") / "@jupyter-widgets" / "html-manager" / "dist"
SKIP = (".map", "-amd.js", ".LICENSE.txt")


def _dist(app: Sphinx) -> Path:
    dist = Path(app.srcdir) / DIST
    if not (dist / "embed.js").exists():
        raise ExtensionError(
            f"{dist / 'embed.js'} is missing: run `npm ci --ignore-scripts` in the book's root "
            "(make site does it) so the widget manager is served with the site"
        )
    return dist


def _configure(app: Sphinx, config) -> None:
    _dist(app)
    config.nb_ipywidgets_js = {"widgets/embed.js": {}}


def _copy(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "widgets"
    target.mkdir(parents=True, exist_ok=True)
    for path in _dist(app).iterdir():
        if path.is_file() and not path.name.endswith(SKIP):
            shutil.copy2(path, target / path.name)


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _configure, priority=900)
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
