"""What on-page read-along costs on a long article, as a ratio against a baseline measured in
the same page, in Debian's Chromium.

The page is the seed article with its sections repeated (--scale; 32 gives about 19,000
words, a two-hour listen), with the player snippet where its audio widget was, and its
manifest made without audio (tests/helpers.unrendered_manifest: the real blocks and sentences,
made-up times). Timed in the page, each the median of --runs:

  match     the player matching the manifest to the page (it matches again each time it is
            reconnected: remove it, put it back, time the putting back)
  baseline  reading the text of the same candidate elements (querySelectorAll + textContent
            of each): the least any matcher by text has to do
  highlight the first highlight of a sentence in a block (its Range located in the text)

and, across one matching, how many times anything read layout (offsetTop, clientHeight,
getBoundingClientRect, getComputedStyle, innerText...): each would force the page to be laid
out. It should be 0.

    .venv/bin/python bench/readalong.py
    .venv/bin/python bench/readalong.py --scale 64 --runs 25
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser import CHROMIUM, CHROMIUM_ARGS, LAYOUT_READS  # noqa: E402  (shared with the tests)
from helpers import unrendered_manifest  # noqa: E402
from render import longer_page  # noqa: E402

from listen.config import ShowConfig  # noqa: E402
from listen.player import snippet_for, write_player_assets  # noqa: E402
from listen.serve import make_server  # noqa: E402

SEED = ROOT / "samples" / "seed-article.html"
BLOCKS = "p,li,blockquote,h1,h2,h3,h4,h5,h6,dd,dt"  # as in listen-player.js

TIME_MATCH = """(runs) => {
  const player = document.querySelector('listen-player');
  const parent = player.parentNode, next = player.nextSibling, times = [];
  for (let i = 0; i < runs; i++) {
    player.remove();
    const start = performance.now();
    parent.insertBefore(player, next);
    times.push(performance.now() - start);
  }
  return {times, marked: document.querySelectorAll('[data-listen-block]').length};
}"""
TIME_BASELINE = """([runs, blocks]) => {
  const root = document.querySelector('main'), times = [];
  let chars = 0;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    for (let j = 0; j < 20; j++) {  // twenty times over: one is below the clock's resolution
      for (const node of root.querySelectorAll(blocks)) chars += node.textContent.length;
    }
    times.push((performance.now() - start) / 20);
  }
  return times;
}"""
LAYOUT_DURING_MATCH = """() => {
  const player = document.querySelector('listen-player');
  const parent = player.parentNode, next = player.nextSibling;
  player.remove();
  window.__layoutReads = 0;
  parent.insertBefore(player, next);
  return window.__layoutReads;
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=32, help="the seed's sections x N")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="listen-bench-readalong-") as tmp:
        out = Path(tmp) / "public"
        (out / "episodes").mkdir(parents=True)
        write_player_assets(out)
        page = longer_page(SEED, args.scale, Path(tmp) / "long.html")
        manifest = unrendered_manifest(page, "long")
        (out / "episodes" / "long.json").write_text(json.dumps(manifest), encoding="utf-8")
        server = make_server(out, port=0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        widget = re.compile(r'<div class="listen-widget trinity-player".*?</div>', re.S)
        snippet = snippet_for("long", ShowConfig(base_url=base)).replace(" playlist=", " x=")
        html = widget.sub(snippet, page.read_text(encoding="utf-8"), count=1)
        (out / "long.html").write_text(html, encoding="utf-8")
        words = len(" ".join(s["text"] for s in manifest["sentences"]).split())

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            tab = browser.new_page()
            tab.route(lambda url: not url.startswith(base), lambda route: route.abort())
            tab.add_init_script(LAYOUT_READS)
            tab.goto(base + "long.html")
            tab.wait_for_function("!document.querySelector('listen-player .lp-play').disabled")
            matched = tab.evaluate(TIME_MATCH, args.runs)
            baseline = tab.evaluate(TIME_BASELINE, [args.runs, BLOCKS])
            reads = tab.evaluate(LAYOUT_DURING_MATCH)
            # The first sentence highlighted in a block locates its sentences' Ranges.
            middle = manifest["sentences"][len(manifest["sentences"]) // 2]
            same_block = [t for t in manifest["sentences"] if t["block"] == middle["block"]]
            seek = """(at) => { const start = performance.now();
                document.querySelector('listen-player').seek(at);
                return performance.now() - start; }"""
            first = tab.evaluate(seek, (same_block[0]["start_ms"] + 500) / 1000)
            again = tab.evaluate(seek, (same_block[-1]["start_ms"] + 500) / 1000)
            lit = tab.evaluate("CSS.highlights.get('listen-sentence')?.size ?? 0")
            browser.close()
        server.shutdown()
        server.server_close()

    blocks = len(manifest["blocks"])
    match_ms = statistics.median(matched["times"])
    base_ms = statistics.median(baseline)
    print(f"article: {words} words, {blocks} blocks, {len(manifest['sentences'])} sentences")
    print(f"matched: {matched['marked']} of {blocks} blocks")
    print(f"match     {match_ms:7.2f} ms (median of {args.runs}; min {min(matched['times']):.2f})")
    print(f"baseline  {base_ms:7.2f} ms (the candidates' textContent, read once)")
    print(f"ratio     {match_ms / base_ms:7.1f}x the baseline")
    print(f"highlight {first:7.2f} ms (a seek into a block: its sentences located; lit {lit})")
    print(f"again     {again:7.2f} ms (a seek within the same block)")
    print(f"layout reads during matching: {reads}")


if __name__ == "__main__":
    main()
