"""The browser check must catch what it promises to catch. Chromium's rendering is replaced
by the page's own HTML here, so these tests run without a browser."""

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "browser_check", Path(__file__).resolve().parent.parent / "tools" / "browser_check.py"
)
browser_check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(browser_check)

GOOD = """<html><body><main id="top">
<p>Typeset: <mjx-container>x</mjx-container></p>
<figure><img src="fig.png"></figure>
<a href="other.html#sec">ok</a> <a href="#top">self</a> <a href="https://example.org">out</a>
<pre>code with \\( is fine</pre>
</main></body></html>"""


@pytest.fixture
def site(tmp_path, monkeypatch):
    (tmp_path / "fig.png").write_bytes(b"\x89PNG fake image bytes that are not empty" * 3)
    (tmp_path / "other.html").write_text('<html><body><h1 id="sec">S</h1></body></html>')

    def fake_render(browser, url, profile, *extra):
        name = url.rsplit("/", 1)[-1]
        for flag in extra:
            if flag.startswith("--screenshot="):
                Path(flag.split("=", 1)[1]).write_bytes(b"png")
                return ""
        return (tmp_path / name).read_text()

    monkeypatch.setattr(browser_check, "render", fake_render)
    server, base = browser_check.serve(tmp_path)
    yield tmp_path, base
    server.shutdown()


def _check(site, html):
    root, base = site
    (root / "page.html").write_text(html)
    shots = root / "shots"
    shots.mkdir(exist_ok=True)
    return browser_check.check_page("chromium", base, root, root / "page.html", shots, "/tmp")


def test_clean_page_passes(site):
    assert _check(site, GOOD) == []


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (GOOD.replace("Typeset:", "Raw: \\(x^2\\)"), "raw TeX"),
        (GOOD.replace("Typeset:", "Raw: $$x$$"), "raw TeX"),
        (GOOD.replace('src="fig.png"', 'src="missing.png"'), "does not load"),
        (GOOD.replace('<img src="fig.png">', ""), "figure(s) without an image"),
        (GOOD.replace("other.html#sec", "gone.html"), "link to missing gone.html"),
        (GOOD.replace("other.html#sec", "other.html#nope"), "missing anchor"),
        (GOOD.replace("<main", '<script src="https://cdn.example/x.js"></script><main'), "another host"),
    ],
)
def test_each_problem_is_caught(site, html, expected):
    problems = _check(site, html)
    assert any(expected in p for p in problems), problems
