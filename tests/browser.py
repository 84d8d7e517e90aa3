"""Browser machinery the player's tests share: Debian's Chromium driven by Playwright's Python
package (no browser download), pages opened in their own contexts with everything they logged and
asked for, and axe-core injected for accessibility scans.

Needs: `apt-get install chromium`, `pip install playwright` (the test extra) and
`npm ci --prefix tests/player_support` (axe-core for the accessibility scan, terser for the size
budget). Without any of them the tests fail and say what to install; they never skip.
A test module using `open_page` defines a `base` fixture: the URL its pages are served from.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("LISTEN_CHROMIUM", "/usr/bin/chromium"))
# No network here: without these flags Chromium keeps trying to reach Google's services.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--autoplay-policy=no-user-gesture-required",
]
SUPPORT = Path(__file__).parent / "player_support"
AXE = SUPPORT / "node_modules" / "axe-core" / "axe.min.js"
TERSER = SUPPORT / "node_modules" / "terser" / "bin" / "terser"
#: A 1x1 transparent PNG: what the tests answer for another origin's images.
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000b49444154789c6360000200000500017a5eab3f0000000049454e44ae426082"
)
#: An init script that counts every read of layout (offsetTop, clientHeight,
#: getBoundingClientRect, getComputedStyle, innerText...) in window.__layoutReads: each would
#: make the browser lay the page out there and then.
LAYOUT_READS = """window.__layoutReads = 0;
const count = (proto, name) => {
  const d = Object.getOwnPropertyDescriptor(proto, name);
  if (!d) return;
  const wrap = (f) => function (...args) { window.__layoutReads++; return f.apply(this, args); };
  const counted = d.get ? {...d, get: wrap(d.get)} : {...d, value: wrap(d.value)};
  Object.defineProperty(proto, name, counted);
};
for (const name of ['offsetTop', 'offsetLeft', 'offsetWidth', 'offsetHeight', 'offsetParent',
                    'innerText', 'outerText']) count(HTMLElement.prototype, name);
for (const name of ['clientTop', 'clientLeft', 'clientWidth', 'clientHeight', 'scrollTop',
                    'scrollLeft', 'scrollWidth', 'scrollHeight', 'getBoundingClientRect',
                    'getClientRects']) count(Element.prototype, name);
count(Range.prototype, 'getBoundingClientRect');
count(window, 'getComputedStyle');
"""
INSTALL_HINT = "npm ci --prefix tests/player_support (see .ci/run)"


def need_chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install Debian's package "
            "(apt-get install -y chromium) or set LISTEN_CHROMIUM",
            pytrace=False,
        )
    return CHROMIUM


def need_node_tool(path: Path, what: str) -> Path:
    if not path.exists():
        pytest.fail(f"{what} not installed ({path} missing): run {INSTALL_HINT}", pytrace=False)
    return path


@dataclass
class Opened:
    """A page in its own browser context, with everything it logged, asked for and popped up."""

    page: Any
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    def js(self, script: str, arg: Any = None) -> Any:
        return self.page.evaluate(script, arg)

    def wait(self, script: str, arg: Any = None, timeout: float = 10_000) -> Any:
        return self.page.wait_for_function(script, arg=arg, timeout=timeout)

    def time(self) -> float:
        return self.js("document.querySelector('listen-player').audio.currentTime")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = need_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright missing: pip install -e '.[test]' (or pip install playwright)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser: Any, base: str) -> Iterator[Callable[..., Opened]]:
    """open_page(path, width, height, init=script, **context options): the page at `base` +
    `path` in a new context, once its player is ready. Requests to any other origin (an article
    page's own analytics, fonts and ads) are answered empty here, and listed in `foreign`."""
    contexts = []

    def opener(
        path: str, width: int = 720, height: int = 720, init: str | None = None, **options: Any
    ) -> Opened:
        context = browser.new_context(viewport={"width": width, "height": height}, **options)
        contexts.append(context)
        page = context.new_page()
        opened = Opened(page)

        def elsewhere(route: Any) -> None:
            opened.foreign.append(route.request.url)
            if route.request.resource_type == "image":  # a broken image would move the page
                route.fulfill(status=200, content_type="image/png", body=PIXEL)
            else:
                route.fulfill(status=204, body="")

        page.route(lambda url: not url.startswith(base) and not url.startswith("data:"), elsewhere)
        if init:
            page.add_init_script(init)
        page.on("console", lambda m: m.type == "error" and opened.errors.append(m.text))
        page.on("pageerror", lambda error: opened.errors.append(f"uncaught: {error}"))
        page.on("requestfailed", lambda r: failed(opened, r))
        page.on("request", lambda r: opened.requests.append(r.url))

        def on_dialog(dialog: Any) -> None:
            opened.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.goto(base + path)
        opened.wait("() => { const p = document.querySelector('listen-player .lp-play');"
                    " return p && !p.disabled; }")  # fmt: skip
        return opened

    yield opener
    for context in contexts:
        context.close()


def failed(opened: Opened, request: Any) -> None:
    # A browser cancels its pending range request for audio whenever the listener seeks.
    if request.resource_type == "media" and "ERR_ABORTED" in (request.failure or ""):
        return
    opened.errors.append(f"failed: {request.url} ({request.failure})")


def run_axe(opened: Opened) -> list[dict]:
    opened.page.add_script_tag(path=str(need_node_tool(AXE, "axe-core")))
    return opened.js(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))"""
    )
