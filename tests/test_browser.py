"""Open every page of the built book in headless Chromium and check it.

For each page listed in ``_toc.yml`` the test checks that MathJax typeset all
mathematics (no raw TeX left on the page), that every image loaded, that the
browser logged no error, and, on pages with exercises, that a solution
dropdown opens.  A screenshot of each page is saved to
``_build/screenshots/<page>.png``.

The site must have been built first (``bash scripts/build.sh``); without
``_build/html`` the tests are skipped.  Chromium is the Debian package, used
through playwright's Python API.
"""

import functools
import http.server
import threading
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RAW_TEX = ("\\(", "\\)", "\\[", "\\]", "$$", "\\begin{")
TIMEOUT_MS = 30_000

# Visible text of the page, leaving out code, typeset math and hidden nodes.
_VISIBLE_PROSE = """() => {
  const body = document.querySelector("article") || document.body;
  const copy = body.cloneNode(true);
  copy.querySelectorAll("pre, code, script, style, mjx-container, "
                        + "mjx-assistive-mml, .MathJax").forEach(e => e.remove());
  return copy.innerText;
}"""

_IMAGES_DONE = """() => Array.from(document.images).every(i => i.complete)"""

_IMAGES = """() => Array.from(document.images).map(
  i => ({src: i.currentSrc || i.src, width: i.naturalWidth}))"""


def toc_pages(toc_file=ROOT / "_toc.yml"):
    """Document names (without suffix) listed in the book's table of contents."""
    toc = yaml.safe_load(toc_file.read_text(encoding="utf-8"))
    pages = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                pages.append(entry["file"])
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key))

    walk([{key: toc.get(key)} for key in ("parts", "chapters", "sections")])
    return [str(Path(page).with_suffix("")) for page in pages]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def site_url():
    if not (SITE / "index.html").is_file():
        pytest.skip("no built site in _build/html: run `bash scripts/build.sh`")
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(site_url):
    if not CHROMIUM.is_file():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install the Debian package "
            "`chromium` (scripts/setup.sh does so)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


def _record_console_error(errors, msg):
    """Keep a console error, except the 404 of Chromium's own favicon request."""
    if msg.type != "error":
        return
    url = msg.location.get("url", "")
    if url.endswith("/favicon.ico"):
        return
    errors.append(f"console: {msg.text} ({url})")


def _record_http_error(errors, response):
    if response.status >= 400:
        errors.append(f"HTTP {response.status}: {response.url}")


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.errors = []
    page.on("console", lambda msg: _record_console_error(page.errors, msg))
    page.on("pageerror", lambda exc: page.errors.append(f"page error: {exc}"))
    page.on(
        "requestfailed",
        lambda req: page.errors.append(f"request failed: {req.url}"),
    )
    page.on("response", lambda res: _record_http_error(page.errors, res))
    yield page
    context.close()


def check_math(page):
    """Wait for MathJax to typeset the page's math; return the number typeset."""
    n_math = page.locator(".math").count()
    if n_math:
        page.wait_for_function(
            "() => window.MathJax && MathJax.startup && MathJax.startup.promise"
        )
        page.evaluate("() => MathJax.startup.promise")
        page.wait_for_function(
            "() => Array.from(document.querySelectorAll('.math'))"
            ".every(e => e.querySelector('mjx-container'))"
        )
    prose = page.evaluate(_VISIBLE_PROSE)
    raw = [tex for tex in RAW_TEX if tex in prose]
    assert not raw, f"raw TeX left on the page: {raw}"
    return n_math


def check_images(page):
    """Assert that every image of the page loaded."""
    page.evaluate(
        "() => document.querySelectorAll('img').forEach(i => i.loading = 'eager')"
    )
    page.wait_for_function(_IMAGES_DONE)
    broken = [img["src"] for img in page.evaluate(_IMAGES) if img["width"] == 0]
    assert not broken, f"images that did not load: {broken}"


def check_solution_dropdown(page):
    """On a page with exercises, open one solution and see its content."""
    if page.locator("div.exercise").count() == 0:
        return
    solutions = page.locator("div.solution.dropdown")
    assert solutions.count() > 0, "exercises but no solution dropdown"
    solution = solutions.first
    button = solution.locator("button.toggle-button")
    button.wait_for(state="attached")
    content = solution.locator("section").first
    assert not content.is_visible(), "solution visible before it is opened"
    button.scroll_into_view_if_needed()
    button.click()
    content.wait_for(state="visible")


@pytest.mark.parametrize("name", toc_pages())
def test_page(page, site_url, name):
    html = SITE / f"{name}.html"
    assert html.is_file(), f"{name} is in _toc.yml but {html.name} was not built"
    page.goto(f"{site_url}/{name}.html", wait_until="load")
    check_math(page)
    check_images(page)
    check_solution_dropdown(page)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    # back to the top: a full-page screenshot taken while scrolled draws the
    # sticky header and sidebar in the middle of the page
    page.evaluate("() => window.scrollTo(0, 0)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(SCREENSHOTS / f"{name.replace('/', '_')}.png"), full_page=True
    )
    assert not page.errors, "\n".join(page.errors)
