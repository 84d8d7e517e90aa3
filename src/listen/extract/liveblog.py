"""Live blogs: sibling elements that each carry a timestamp and text of their own are entries,
read as chapters in page order, each titled with its heading (or bold lead, or time and first
words)."""

from __future__ import annotations

import re

from listen.extract.chrome import looks_like_chrome
from listen.extract.marks import ENTRY_TIME, ENTRY_TITLE, MARK, WEAK
from listen.extract.prose import Prose
from listen.extract.settings import THRESHOLDS
from listen.extract.text import (
    HEADING_TAGS,
    Element,
    block_parent,
    clean_text,
    drop_tree,
    element_text,
    text_pieces,
    tokens,
    within,
)

#: The level live-blog entries start chapters at: above any heading inside them.
ENTRY_LEVEL = 1


def is_timestamp(el: Element) -> bool:
    return el.tag == "time" or any("timestamp" in token for token in tokens(el))


def _time_label(stamp: Element) -> str:
    text = element_text(stamp)
    if text and len(text) <= 40:
        return text
    match = re.search(r"T(\d{2}:\d{2})", stamp.get("datetime") or "")
    return match.group(1) if match else ""


def mark_live_entries(
    root: Element,
    declared: bool = False,
    measured: Prose | None = None,
    elements: list[Element] | None = None,
) -> int:
    """Find the entries and mark each with its title and time; a timestamp standing on its own
    line is taken out of the text. Returns the number of entries marked. `elements`: those of
    `root`, when listed already (an element removed since is passed over)."""
    groups: dict[Element, dict[Element, None]] = {}
    stamps: dict[Element, list[Element]] = {}
    listed = elements if elements is not None else root.iter()
    for stamp in [el for el in listed if is_timestamp(el) and within(el, root)]:
        child = stamp
        for parent in stamp.iterancestors():
            if parent.tag == "html":
                break
            groups.setdefault(parent, {})[child] = None
            stamps.setdefault(child, []).append(stamp)
            child = parent
    if not groups:
        return 0
    prose = (measured or Prose.of(root)).totals
    total = max(prose.get(root, 0), 1)
    minimum = THRESHOLDS.live_min_entries_declared if declared else THRESHOLDS.live_min_entries
    best: list[Element] = []
    best_share = 0.0
    for parent, children in groups.items():
        entries = [c for c in children if prose.get(c, 0) > 0]
        if not entries:
            continue
        names = [c.tag for c in entries]
        common = max(set(names), key=names.count)
        entries = [c for c in entries if c.tag == common]
        if len(entries) < minimum or looks_like_chrome(parent):
            continue
        share = sum(prose.get(c, 0) for c in entries) / total
        if share >= THRESHOLDS.live_min_prose_share and share > best_share:
            best, best_share = entries, share
    for entry in best:
        label = ""
        for stamp in stamps.get(entry, []):
            if not within(stamp, entry):
                continue
            label = label or _time_label(stamp)
            line = block_parent(stamp.getparent()) if stamp.getparent() is not None else None
            in_running_text = (
                line is not None
                and line.tag in ("p", "li", "dd", "blockquote", "td")
                and len(element_text(line)) > 60
            )
            if not in_running_text:  # "<time>3pm</time>" inside a sentence stays
                drop_tree(stamp)
        entry.set(MARK, "entry")
        entry.set(ENTRY_TIME, label)
        entry.set(ENTRY_TITLE, _entry_heading(entry))
    return len(best)


def _entry_heading(entry: Element) -> str:
    """An entry's own heading, marked so that it is not read twice."""
    heading = next(entry.iter(*HEADING_TAGS), None)
    if heading is not None and element_text(heading):
        heading.set(MARK, "skip")
        return element_text(heading)
    return ""


def _bold_lead(entry: Element) -> str:
    """A bold lead standing for a heading ("<p><b>Polls close.</b> Voting ended...") at the start
    of an entry (read after chrome is dropped, so a byline or a share bar does not hide it).
    Marked so that it is not read twice."""
    first = next((owner for owner, text in text_pieces(entry, WEAK) if text.strip()), None)
    if first is None:
        return ""
    bold = first if first.tag in ("strong", "b") else next(first.iterancestors("strong", "b"), None)
    if bold is None or not within(bold, entry) or bold is entry:
        return ""
    text = element_text(bold).strip(" .:—–-")
    if len(text.split()) >= 2 and len(text) <= 120:
        bold.set(MARK, "skip")
        return text
    return ""


def entry_title(entry: Element) -> str:
    """The chapter title of a live-blog entry: its heading or bold lead, else its time and
    first words."""
    title = (entry.get(ENTRY_TITLE) or "") or _bold_lead(entry)
    if title:
        return title
    found = clean_text("".join(text for _, text in text_pieces(entry, WEAK))).split()
    first = " ".join(found[: THRESHOLDS.entry_title_words]).rstrip(",;:—–-")
    if len(found) > THRESHOLDS.entry_title_words:
        first += "…"
    label = entry.get(ENTRY_TIME) or ""
    return f"{label}: {first}" if label and first else label or first
