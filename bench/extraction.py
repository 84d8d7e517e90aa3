"""Score article extractors on the article-extraction benchmark (scrapinghub's, dev half).

Runs `listen.extract` (what we narrate: section headings and block texts, no title), trafilatura
and readability-lxml over the same pages, and scores each with the benchmark's own rule: 4-token
shingles of `\\w+` tokens, TP/FP/FN normalized per page, precision and recall averaged over pages
(a port of the benchmark's `evaluate.py`).

    .venv/bin/python bench/extraction.py [--data DIR] [--extractors ours,trafilatura,readability]
                                         [--worst N] [--page ID]
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import logging
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"
#: The development sets: folder, and whether its truth includes the headline (dragnet's does, so
#: there the predicted text is the title followed by the chapters).
DATA_SETS = {
    "benchmark": (SHARED / "extraction-benchmark", False),
    "dragnet": (SHARED / "dragnet-dev", True),
}

# --- data --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    id: str
    url: str
    truth: str
    raw: bytes
    text: str  # the raw bytes decoded, for the extractors that take a str


def decode_html(raw: bytes) -> str:
    """The page's text for the extractors that take a str, decoded as listen decodes it (BOM,
    the page's WHATWG charset label, UTF-8, windows-1252), so that all three read the same."""
    from listen.extract import decode_html as decode

    return decode(raw)


def read_truth(data: Path) -> dict[str, dict]:
    plain = data / "ground-truth.json"
    if plain.exists():
        return json.loads(plain.read_text(encoding="utf-8"))
    return json.loads(gzip.decompress((data / "ground-truth.json.gz").read_bytes()))


def load_pages(data: Path, only: str | None = None) -> list[Page]:
    truth = read_truth(data)
    pages = []
    for page_id in sorted(truth):
        if only is not None and not page_id.startswith(only):
            continue
        raw = gzip.decompress((data / "html" / f"{page_id}.html.gz").read_bytes())
        entry = truth[page_id]
        body = entry.get("articleBody", "")
        pages.append(Page(page_id, entry["url"], body, raw, decode_html(raw)))
    return pages


# --- extractors --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Extraction:
    title: str
    body: str
    refused: bool = False

    def text(self, with_title: bool) -> str:
        return f"{self.title}\n{self.body}" if with_title and self.title else self.body


@dataclass(frozen=True)
class Timing:
    """Wall seconds, and CPU seconds of this process: on a busy machine the wall time grows
    with the load, the CPU time much less, so the two together tell the cost from the wait."""

    wall: float
    cpu: float


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.timing = Timing(time.perf_counter() - self._wall, time.process_time() - self._cpu)


#: An extractor gives its text and the time its extraction took (what is timed is for each to
#: say: trafilatura's title, for instance, is read outside its timed call).
Extractor = Callable[[Page, bool], tuple[Extraction, Timing]]


def extract_ours(page: Page, with_title: bool) -> tuple[Extraction, Timing]:
    from listen.errors import ListenError
    from listen.extract import extract

    article = None
    with Stopwatch() as watch, contextlib.suppress(ListenError):  # refused: nothing narrated
        article = extract(page.raw, source=page.id)
    if article is None:
        return Extraction("", "", refused=True), watch.timing
    lines: list[str] = []
    for section in article.sections:
        if section.heading is not None:
            lines.append(section.heading)
        lines.extend(block.text for block in section.blocks)
    return Extraction(article.title, "\n".join(lines)), watch.timing


def extract_trafilatura(page: Page, with_title: bool) -> tuple[Extraction, Timing]:
    import trafilatura
    from trafilatura.metadata import extract_metadata

    # Its default keeps comment threads, which neither truth includes. The timed call is
    # `extract` as a user would make it (no metadata); the title the dragnet truth needs is read
    # outside it, so that trafilatura's speed is not understated.
    with Stopwatch() as watch:
        body = trafilatura.extract(page.text, include_comments=False)
    if body is None:
        return Extraction("", "", refused=True), watch.timing
    title = ""
    if with_title:
        metadata = extract_metadata(trafilatura.load_html(page.text))
        title = (metadata.title if metadata else "") or ""
    return Extraction(title, body), watch.timing


def extract_readability(page: Page, with_title: bool) -> tuple[Extraction, Timing]:
    import lxml.html
    from readability import Document

    with Stopwatch() as watch:
        document = Document(page.text)
        summary = document.summary()
        title = document.short_title() if with_title else ""
    body = lxml.html.fromstring(summary).text_content() if summary.strip() else ""
    return Extraction(title, body), watch.timing


EXTRACTORS: dict[str, Extractor] = {
    "ours": extract_ours,
    "trafilatura": extract_trafilatura,
    "readability": extract_readability,
}


# --- scoring (the benchmark's evaluate.py) -----------------------------------------------------

TOKEN_RE = re.compile(r"\w+", re.UNICODE)
NGRAM_N = 4


def shingles(text: str, n: int = NGRAM_N) -> Counter[tuple[str, ...]]:
    """Contiguous n-token shingles with counts; a text shorter than n tokens is one shingle."""
    tokens = TOKEN_RE.findall(text or "")
    return Counter(
        tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i : i + n]
    )


@dataclass(frozen=True)
class Match:
    """TP, FP, FN of one page, normalized to sum to 1 (all 0 when both texts are empty)."""

    tp: float
    fp: float
    fn: float

    @property
    def precision(self) -> float:
        if self.fp == self.fn == 0:
            return 1.0
        if self.tp == self.fp == 0:
            return 0.0
        return self.tp / (self.tp + self.fp)

    @property
    def recall(self) -> float:
        if self.fp == self.fn == 0:
            return 1.0
        if self.tp == self.fn == 0:
            return 0.0
        return self.tp / (self.tp + self.fn)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def match(true: str, pred: str) -> Match:
    t, p = shingles(true), shingles(pred)
    tp = float(sum((t & p).values()))
    fp = float(sum((p - t).values()))
    fn = float(sum((t - p).values()))
    total = tp + fp + fn
    if total > 0:
        tp, fp, fn = tp / total, fp / total, fn / total
    return Match(tp, fp, fn)


def score(matches: list[Match]) -> tuple[float, float, float]:
    """Precision, recall, F1 as evaluate.py computes them: precision averages only the pages with
    a prediction (tp + fp > 0), recall only the pages with a truth (tp + fn > 0)."""
    precisions = [m.precision for m in matches if m.tp + m.fp > 0]
    recalls = [m.recall for m in matches if m.tp + m.fn > 0]
    precision = statistics.mean(precisions) if precisions else 0.0
    recall = statistics.mean(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


# --- running -----------------------------------------------------------------------------------


@dataclass
class Run:
    name: str
    texts: dict[str, str] = field(default_factory=dict)
    matches: dict[str, Match] = field(default_factory=dict)
    timings: list[Timing] = field(default_factory=list)
    refused: int = 0

    def median_ms(self, clock: str) -> float:
        return statistics.median(getattr(t, clock) for t in self.timings) * 1000


def run_extractors(names: list[str], pages: list[Page], with_title: bool) -> list[Run]:
    """Every extractor on every page, page by page (the extractors take turns on each page, so
    a change in the machine's load during the run weighs on all of them alike)."""
    runs = [Run(name) for name in names]
    for page in pages:
        for run in runs:
            extraction, timing = EXTRACTORS[run.name](page, with_title)
            run.timings.append(timing)
            text = extraction.text(with_title)
            run.refused += extraction.refused or not TOKEN_RE.search(text)
            run.texts[page.id] = text
            run.matches[page.id] = match(page.truth, text)
    return runs


def print_table(set_name: str, runs: list[Run]) -> None:
    header = (
        f"{'set':<10} {'extractor':<12} {'precision':>9} {'recall':>7} {'F1':>6} "
        f"{'ms median':>9} {'ms mean':>8} {'cpu ms median':>13} {'pages':>5} {'refused':>7}"
    )
    print(header)
    print("-" * len(header))
    for run in runs:
        precision, recall, f1 = score(list(run.matches.values()))
        ms_mean = statistics.mean(t.wall for t in run.timings) * 1000
        print(
            f"{set_name:<10} {run.name:<12} {precision:>9.3f} {recall:>7.3f} {f1:>6.3f} "
            f"{run.median_ms('wall'):>9.1f} {ms_mean:>8.1f} {run.median_ms('cpu'):>13.1f} "
            f"{len(run.matches):>5} {run.refused:>7}"
        )
    by_name = {run.name: run for run in runs}
    if "ours" in by_name and "trafilatura" in by_name:
        ours, theirs = by_name["ours"], by_name["trafilatura"]
        wall = ours.median_ms("wall") / theirs.median_ms("wall")
        cpu = ours.median_ms("cpu") / theirs.median_ms("cpu")
        print(
            f"{set_name:<10} median per page, ours / trafilatura: {wall:.2f}x wall, {cpu:.2f}x CPU"
        )


def print_worst(run: Run, pages: list[Page], n: int) -> None:
    urls = {page.id: page.url for page in pages}
    worst = sorted(run.matches.items(), key=lambda item: (item[1].f1, item[0]))[:n]
    print(f"\n{n} worst pages for {run.name} (by per-page F1)")
    print(f"{'F1':>5} {'P':>5} {'R':>5}  {'id (prefix)':<16}  url")
    for page_id, m in worst:
        note = "  (empty prediction)" if not TOKEN_RE.search(run.texts[page_id]) else ""
        scores = f"{m.f1:>5.2f} {m.precision:>5.2f} {m.recall:>5.2f}"
        print(f"{scores}  {page_id[:16]}  {urls[page_id]}{note}")


def print_page(page: Page, with_title: bool) -> None:
    text = extract_ours(page, with_title)[0].text(with_title)
    m = match(page.truth, text)
    rule = "=" * 100
    print(f"{page.id}\n{page.url}\nP={m.precision:.3f} R={m.recall:.3f} F1={m.f1:.3f}")
    print(f"{rule}\nOURS ({len(text)} chars)\n{rule}\n{text}")
    print(f"{rule}\nGROUND TRUTH ({len(page.truth)} chars)\n{rule}\n{page.truth}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sets",
        default=",".join(DATA_SETS),
        help=f"comma-separated subset of {', '.join(DATA_SETS)}",
    )
    parser.add_argument(
        "--data",
        type=Path,
        help="one benchmark-shaped folder instead of the dev sets (with --with-title if its "
        "truth includes the headline)",
    )
    parser.add_argument("--with-title", action="store_true", help="score title + body (--data)")
    parser.add_argument(
        "--extractors",
        default=",".join(EXTRACTORS),
        help=f"comma-separated subset of {', '.join(EXTRACTORS)}",
    )
    parser.add_argument("--worst", type=int, metavar="N", help="list our N lowest-F1 pages")
    parser.add_argument("--page", metavar="ID", help="print our text vs the truth for one page")
    args = parser.parse_args(argv)
    unknown = set(args.extractors.split(",")) - EXTRACTORS.keys()
    if unknown:
        parser.error(f"unknown extractor(s): {', '.join(sorted(unknown))}")
    unknown = set(args.sets.split(",")) - DATA_SETS.keys()
    if unknown:
        parser.error(f"unknown set(s): {', '.join(sorted(unknown))}")
    return args


def chosen_sets(args: argparse.Namespace) -> dict[str, tuple[Path, bool]]:
    if args.data is not None:
        return {args.data.name: (args.data, args.with_title)}
    return {name: DATA_SETS[name] for name in args.sets.split(",")}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.disable(logging.CRITICAL)  # trafilatura and readability log per page
    sets = chosen_sets(args)
    if args.page:
        found = [
            (page, with_title)
            for data, with_title in sets.values()
            for page in load_pages(data, only=args.page)
        ]
        if len(found) != 1:
            print(f"error: {len(found)} pages match id {args.page!r}", file=sys.stderr)
            return 1
        print_page(*found[0])
        return 0
    names = args.extractors.split(",")
    for set_name, (data, with_title) in sets.items():
        pages = load_pages(data)
        runs = run_extractors(names, pages, with_title)
        print_table(set_name, runs)
        if args.worst:
            ours = next((run for run in runs if run.name == "ours"), None)
            ours = ours or run_extractors(["ours"], pages, with_title)[0]
            print_worst(ours, pages, args.worst)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
