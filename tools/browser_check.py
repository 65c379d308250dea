"""Load every page of the built site in headless Chromium and check what a reader sees.

Usage: python tools/browser_check.py [_build/html] [--screenshots DIR]

Serves the site on 127.0.0.1 (a free port), and for every HTML page:
  * renders it with Chromium (JavaScript on, MathJax from the site itself) and dumps the DOM;
  * fails if raw TeX is left in the visible text (``\\(``, ``\\[`` or ``$$``), if an image
    does not load (HTTP status or empty file), if a figure has no image, or if an internal link
    points to a missing file or a missing anchor;
  * fails if the page asks for any resource from another host (the site must work offline);
  * saves a full-width screenshot to DIR (default _build/screenshots) for a human to look at.
Exits non-zero with one line per problem.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse
from urllib.request import urlopen

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--virtual-time-budget=15000",
]
HIDDEN = {"script", "style", "pre", "code", "mjx-container", "mjx-assistive-mml", "math", "svg", "textarea"}
RAW_TEX = re.compile(r"\\\(|\\\[|\$\$")


class Page(HTMLParser):
    """Collects visible text, ids, links, images, figures and external resources of a DOM."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.images: list[str] = []
        self.external: list[str] = []
        self.figures_without_image = 0
        self._hidden = 0
        self._figure_stack: list[bool] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag in HIDDEN:
            self._hidden += 1
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "img" and attrs.get("src"):
            self.images.append(attrs["src"])
            if self._figure_stack:
                self._figure_stack[-1] = True
        if tag == "figure":
            self._figure_stack.append(False)
        for key in ("src",) if tag in {"script", "img", "iframe"} else ("href",) if tag == "link" else ():
            value = attrs.get(key, "")
            if urlparse(value).scheme in {"http", "https"} or value.startswith("//"):
                self.external.append(value)

    def handle_endtag(self, tag):
        if tag in HIDDEN and self._hidden:
            self._hidden -= 1
        if tag == "figure" and self._figure_stack:
            if not self._figure_stack.pop():
                self.figures_without_image += 1

    def handle_data(self, data):
        if not self._hidden:
            self.text.append(data)


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        # Chromium drops connections it no longer needs; that is not a problem of the site
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(QuietHandler, directory=str(root))
    server = QuietServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep the check's output readable
        pass


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    sys.exit("browser check: no Chromium found (Debian: apt-get install chromium)")


def render(browser: str, url: str, profile: str, *extra: str) -> str:
    result = subprocess.run(
        [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, url],
        capture_output=True, text=True, timeout=120,
    )
    return result.stdout


def check_page(browser, base, root, page_path, shots, profile) -> list[str]:
    rel = page_path.relative_to(root).as_posix()
    url = urljoin(base, rel)
    dom = render(browser, url, profile, "--dump-dom")
    page = Page()
    page.feed(dom)
    problems = []
    if not dom.strip():
        return [f"{rel}: Chromium returned an empty DOM"]
    text = " ".join(page.text)
    for match in RAW_TEX.finditer(text):
        snippet = text[max(0, match.start() - 40) : match.end() + 40].replace("\n", " ")
        problems.append(f"{rel}: raw TeX left in the rendered text: ...{snippet}...")
        break
    for src in page.images:
        target = urljoin(url, src)
        if urlparse(target).netloc != urlparse(base).netloc:
            continue
        try:
            with urlopen(target) as response:
                if response.status != 200 or not response.read(64):
                    problems.append(f"{rel}: image {src} does not load")
        except OSError:
            problems.append(f"{rel}: image {src} does not load")
    if page.figures_without_image:
        problems.append(f"{rel}: {page.figures_without_image} figure(s) without an image")
    for href in page.links:
        parsed = urlparse(urljoin(url, href))
        if parsed.scheme not in {"http", ""} or parsed.netloc != urlparse(base).netloc:
            continue
        target = root / unquote(parsed.path.lstrip("/"))
        if target.is_dir():
            target = target / "index.html"
        if not target.exists():
            problems.append(f"{rel}: link to missing {href}")
        elif parsed.fragment and target.suffix == ".html":
            ids = set(re.findall(r'id="([^"]+)"', target.read_text(errors="replace")))
            if unquote(parsed.fragment) not in ids:
                problems.append(f"{rel}: link to missing anchor {href}")
    for resource in page.external:
        problems.append(f"{rel}: loads {resource} from another host (the site must work offline)")
    shot = shots / (rel.replace("/", "__").removesuffix(".html") + ".png")
    render(browser, url, profile, f"--screenshot={shot}", "--window-size=1280,2400")
    if not shot.exists() or shot.stat().st_size == 0:
        problems.append(f"{rel}: no screenshot")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("site", nargs="?", default="_build/html")
    parser.add_argument("--screenshots", default="_build/screenshots")
    args = parser.parse_args()
    root = Path(args.site).resolve()
    pages = sorted(
        p for p in root.rglob("*.html")
        if not p.relative_to(root).parts[0].startswith("_")
        and p.name not in {"genindex.html", "search.html"}
        and 'http-equiv="refresh"' not in p.read_text(errors="replace").lower()  # redirects
    )
    if not pages:
        sys.exit(f"browser check: no pages under {root}; run `make book` first")
    shots = Path(args.screenshots)
    shots.mkdir(parents=True, exist_ok=True)
    browser = chromium()
    server, base = serve(root)
    problems: list[str] = []
    try:
        with tempfile.TemporaryDirectory() as profile:
            for page_path in pages:
                found = check_page(browser, base, root, page_path, shots, profile)
                status = "ok" if not found else f"{len(found)} problem(s)"
                print(f"{page_path.relative_to(root)}: {status}", flush=True)
                problems.extend(found)
    finally:
        server.shutdown()
    for problem in problems:
        print("PROBLEM", problem)
    print(f"browser check: {len(pages)} pages, {len(problems)} problems; screenshots in {shots}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
