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

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "extraction-benchmark"

# --- data --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    id: str
    url: str
    truth: str
    raw: bytes
    text: str  # the raw bytes decoded, for the extractors that take a str


def decode_html(raw: bytes) -> str:
    """UTF-8 if it is valid, else whatever bs4's UnicodeDammit detects."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        from bs4 import UnicodeDammit

        dammit = UnicodeDammit(raw, is_html=True)
        return dammit.unicode_markup or raw.decode("utf-8", errors="replace")


def load_pages(data: Path, only: str | None = None) -> list[Page]:
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
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

Extractor = Callable[[Page], str]


def extract_ours(page: Page) -> str:
    from listen.errors import ListenError
    from listen.extract import extract

    try:
        article = extract(page.raw, source=page.id)
    except ListenError:
        return ""  # page refused: nothing narrated
    lines: list[str] = []
    for section in article.sections:
        if section.heading is not None:
            lines.append(section.heading)
        lines.extend(block.text for block in section.blocks)
    return "\n".join(lines)


def extract_trafilatura(page: Page) -> str:
    import trafilatura

    return trafilatura.extract(page.text) or ""


def extract_readability(page: Page) -> str:
    import lxml.html
    from readability import Document

    summary = Document(page.text).summary()
    return lxml.html.fromstring(summary).text_content() if summary.strip() else ""


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
    seconds: list[float] = field(default_factory=list)


def run_extractor(name: str, extractor: Extractor, pages: list[Page]) -> Run:
    run = Run(name)
    for page in pages:
        start = time.perf_counter()
        text = extractor(page)
        run.seconds.append(time.perf_counter() - start)
        run.texts[page.id] = text
        run.matches[page.id] = match(page.truth, text)
    return run


def print_table(runs: list[Run]) -> None:
    header = (
        f"{'extractor':<12} {'precision':>9} {'recall':>7} {'F1':>6} "
        f"{'ms median':>9} {'ms mean':>8} {'pages':>5} {'empty':>5}"
    )
    print(header)
    print("-" * len(header))
    for run in runs:
        precision, recall, f1 = score(list(run.matches.values()))
        ms_median = statistics.median(run.seconds) * 1000
        ms_mean = statistics.mean(run.seconds) * 1000
        empty = sum(1 for text in run.texts.values() if not TOKEN_RE.search(text))
        print(
            f"{run.name:<12} {precision:>9.3f} {recall:>7.3f} {f1:>6.3f} "
            f"{ms_median:>9.1f} {ms_mean:>8.1f} {len(run.matches):>5} {empty:>5}"
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


def print_page(page: Page) -> None:
    text = extract_ours(page)
    m = match(page.truth, text)
    rule = "=" * 100
    print(f"{page.id}\n{page.url}\nP={m.precision:.3f} R={m.recall:.3f} F1={m.f1:.3f}")
    print(f"{rule}\nOURS ({len(text)} chars)\n{rule}\n{text}")
    print(f"{rule}\nGROUND TRUTH ({len(page.truth)} chars)\n{rule}\n{page.truth}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="benchmark folder")
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
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.disable(logging.CRITICAL)  # trafilatura and readability log per page
    if args.page:
        pages = load_pages(args.data, only=args.page)
        if len(pages) != 1:
            print(f"error: {len(pages)} pages match id {args.page!r}", file=sys.stderr)
            return 1
        print_page(pages[0])
        return 0
    pages = load_pages(args.data)
    names = args.extractors.split(",")
    runs = [run_extractor(name, EXTRACTORS[name], pages) for name in names]
    print_table(runs)
    if args.worst:
        ours = next((run for run in runs if run.name == "ours"), None)
        print_worst(ours or run_extractor("ours", extract_ours, pages), pages, args.worst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
