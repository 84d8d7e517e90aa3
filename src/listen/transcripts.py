"""The episode's transcript in every format podcast apps read, all made from the manifest:

- WebVTT (`text/vtt`): captions, each cue its speaker's (`<v heart>`), at most two lines of
  about 60 characters; a longer sentence is split at its clauses into several cues;
- SRT (`application/x-subrip`): the same cues;
- the Podcasting 2.0 JSON transcript (`application/json`): the same cues as segments with
  `speaker`, `startTime`, `endTime` and `body`;
- HTML (`text/html`): the article as read, headings as headings.

A section heading is read aloud as a sentence of its own ("Why it matters."), but a transcript
shows it once, as the heading it is (the words on the page), never as a heading plus a
sentence repeating it.
"""

from __future__ import annotations

import functools
import html
import itertools
import json
import re
import textwrap
from dataclasses import dataclass
from datetime import timedelta
from itertools import groupby
from typing import TYPE_CHECKING

import srt

if TYPE_CHECKING:
    from listen.mix import TimedSentence
    from listen.publish import Manifest

#: A caption line's length, and how many lines a cue has at most (the usual subtitle rules).
LINE_CHARS = 60
CUE_LINES = 2
#: Where a sentence too long for one cue may be split: after a clause's punctuation.
_CLAUSE_END = re.compile(r"(?<=[,;:—–])\s+|\s+(?=[—–]\s)")
HEADING_KINDS = ("title", "heading")
TRANSCRIPT_JSON_VERSION = "1.0.0"


@dataclass(frozen=True)
class Passage:
    """One thing the transcript shows: a heading, or a sentence of a block."""

    text: str
    start_ms: int
    end_ms: int
    speaker: str
    kind: str  # "title", "heading", or the block's kind ("paragraph", "list_item", "quote"...)
    #: The page block it belongs to (sentences of one paragraph share it); None if not on the
    #: page (the intro, the outro).
    block: int | None
    chapter: int


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    speaker: str
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.lines)


def passages(manifest: Manifest) -> list[Passage]:
    """The manifest's sentences as the transcript shows them: a heading's sentences (a heading
    is read as one or more sentences, with a period added) become the heading as written."""
    kinds = [block.kind for block in manifest.blocks]
    out: list[Passage] = []

    def kind_of(sentence: TimedSentence) -> str:
        if sentence.block is None or sentence.block >= len(kinds):
            return "paragraph"
        return kinds[sentence.block]

    for (block, kind), group in groupby(manifest.sentences, lambda s: (s.block, kind_of(s))):
        sentences = list(group)
        if kind in HEADING_KINDS and block is not None:
            first, last = sentences[0], sentences[-1]
            text = manifest.title if kind == "title" else manifest.chapters[first.chapter].title
            out.append(Passage(text, first.start_ms, last.end_ms, first.voice, kind, block,
                               first.chapter))  # fmt: skip
            continue
        out += [Passage(s.text, s.start_ms, s.end_ms, s.voice, kind, block, s.chapter)
                for s in sentences]  # fmt: skip
    return out


def wrap(text: str, width: int = LINE_CHARS) -> list[str]:
    """Lines of at most `width` characters, balanced: two lines of 40 rather than 60 and 20."""
    return list(_balanced_lines(text, width))


# Every transcript format asks for the same cues' lines, and splitting a sentence into cues asks
# for the line count of its growing prefixes: a long article's lines are worth remembering.
@functools.lru_cache(maxsize=8192)
def _balanced_lines(text: str, width: int) -> tuple[str, ...]:
    lines = textwrap.wrap(text, width, break_on_hyphens=False)
    if len(lines) == 2:
        if (balanced := _two_balanced_lines(text)) is not None:
            return balanced
        for narrower in range(len(text) // 2, width):
            # Never a word broken to fill a line: at 11 textwrap makes "distinct negotiations"
            # into "distinct ne" and "gotiations".
            narrowed = textwrap.wrap(text, narrower, break_on_hyphens=False,
                                     break_long_words=False)  # fmt: skip
            if len(narrowed) == 2 and max(map(len, narrowed)) <= width:
                return tuple(narrowed)
    return tuple(lines)


def _two_balanced_lines(text: str) -> tuple[str, str] | None:
    """What `_balanced_lines` finds by wrapping `text` at every narrower width from half its
    length up, worked out at once, for text whose words are one space apart and no longer
    than half of it (else None): the narrowest width that still wraps to two lines is the
    shortest longer line of any break between words, and wrapping at it breaks after the
    last word that fits."""
    words = text.split(" ")
    # No other space of any kind: textwrap breaks at tabs and newlines, and drops what
    # `str.strip` takes for space (a no-break space too) at the ends of its lines.
    if len(words) < 2 or words != text.split():
        return None
    if max(map(len, words)) > len(text) // 2:
        return None
    ends = list(itertools.accumulate(len(word) + 1 for word in words[:-1]))  # after each word
    narrowest = min(max(end - 1, len(text) - end) for end in ends)
    end = max(end for end in ends if end - 1 <= narrowest)
    return text[: end - 1], text[end:]


def pieces(text: str, max_lines: int = CUE_LINES, width: int = LINE_CHARS) -> list[str]:
    """`text` in pieces that each fit one cue: whole clauses where they fit, else words."""
    if len(wrap(text, width)) <= max_lines:
        return [text]
    clauses = [c for c in _CLAUSE_END.split(text) if c]
    out: list[str] = []
    current = ""
    for clause in clauses:
        candidate = f"{current} {clause}" if current else clause
        if current and len(wrap(candidate, width)) > max_lines:
            out.append(current)
            current = clause
        else:
            current = candidate
    out.append(current)
    return [part for piece in out for part in pieces_by_words(piece, max_lines, width)]


def pieces_by_words(text: str, max_lines: int, width: int) -> list[str]:
    """A clause too long for one cue, a cue's worth of words at a time."""
    lines = wrap(text, width)
    if len(lines) <= max_lines:
        return [text]
    return [" ".join(lines[i : i + max_lines]) for i in range(0, len(lines), max_lines)]


def cues_of(passage: Passage) -> list[Cue]:
    """A passage's cues. The parts of a split sentence share its time in proportion to their
    letters (the voice's pace is even within a sentence; the clause pauses are short)."""
    parts = pieces(passage.text)
    if len(parts) == 1:
        return [Cue(passage.start_ms, passage.end_ms, passage.speaker, tuple(wrap(parts[0])))]
    total = sum(len(p) for p in parts)
    span = passage.end_ms - passage.start_ms
    cues, done = [], 0
    start = passage.start_ms
    for number, part in enumerate(parts):
        done += len(part)
        end = (
            passage.end_ms
            if number == len(parts) - 1
            else passage.start_ms + round(span * done / total)
        )
        cues.append(Cue(start, end, passage.speaker, tuple(wrap(part))))
        start = end
    return cues


def cues(manifest: Manifest) -> list[Cue]:
    return [cue for passage in passages(manifest) for cue in cues_of(passage)]


def vtt_time(ms: int) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webvtt(manifest: Manifest) -> str:
    """Cues with their speaker in a voice span (`<v heart>`), which is how Apple Podcasts and
    browsers show who speaks; the span closes at the cue's end, as the spec allows."""
    out = ["WEBVTT", ""]
    for number, cue in enumerate(cues(manifest), start=1):
        speaker = f"<v {vtt_escape(cue.speaker)}>" if cue.speaker else ""
        lines = [vtt_escape(line) for line in cue.lines]
        out += [str(number), f"{vtt_time(cue.start_ms)} --> {vtt_time(cue.end_ms)}",
                speaker + lines[0], *lines[1:], ""]  # fmt: skip
    return "\n".join(out)


def subrip(manifest: Manifest) -> str:
    """SRT: the WebVTT cues, without speaker spans (SRT has none)."""
    return srt.compose(
        [srt.Subtitle(index=number, start=timedelta(milliseconds=cue.start_ms),
                      end=timedelta(milliseconds=cue.end_ms), content="\n".join(cue.lines))
         for number, cue in enumerate(cues(manifest), start=1)],
        reindex=False,
    )  # fmt: skip


def transcript_json(manifest: Manifest) -> dict:
    """The Podcasting 2.0 JSON transcript: a segment per cue, times in seconds."""
    return {
        "version": TRANSCRIPT_JSON_VERSION,
        "segments": [
            {"speaker": cue.speaker, "startTime": cue.start_ms / 1000,
             "endTime": cue.end_ms / 1000, "body": cue.text}
            for cue in cues(manifest)
        ],
    }  # fmt: skip


_LIST_KINDS = ("list_item",)


def transcript_html(manifest: Manifest, show_title: str) -> str:
    """The article as read: the title as the page's heading, a chapter's heading as a
    subheading, each block's sentences as its paragraph, list item or quotation."""
    esc = html.escape
    body: list[str] = []
    in_list = False
    items = passages(manifest)
    for (_block, kind), group in groupby(items, lambda p: (p.block, p.kind)):
        parts = list(group)
        text = " ".join(esc(p.text) for p in parts)
        if in_list and kind not in _LIST_KINDS:
            body.append("</ul>")
            in_list = False
        begin = f' data-start="{parts[0].start_ms / 1000:g}"'
        if kind == "title":
            body.append(f"<h1{begin}>{text}</h1>")
            if manifest.byline:
                body.append(f'<p class="byline">{esc(manifest.byline)}</p>')
        elif kind == "heading":
            body.append(f"<h2{begin}>{text}</h2>")
        elif kind in _LIST_KINDS:
            if not in_list:
                body.append("<ul>")
                in_list = True
            body.append(f"<li{begin}>{text}</li>")
        elif kind == "quote":
            body.append(f"<blockquote{begin}><p>{text}</p></blockquote>")
        elif kind == "subheading":
            body.append(f"<h3{begin}>{text}</h3>")
        else:
            body.append(f"<p{begin}>{text}</p>")
    if in_list:
        body.append("</ul>")
    source = (f'<p class="source"><a href="{esc(manifest.url)}">{esc(manifest.url)}</a></p>\n'
              if manifest.url else "")  # fmt: skip
    return (
        f'<!doctype html>\n<html lang="{esc(manifest.language)}">\n<head>\n'
        f'<meta charset="utf-8">\n<meta name="viewport" content="width=device-width">\n'
        f"<title>{esc(manifest.title)} · {esc(show_title)}</title>\n</head>\n<body>\n"
        "<article>\n" + "\n".join(body) + f"\n{source}</article>\n</body>\n</html>\n"
    )


def dumps_json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


#: Each transcript file, by what follows the slug, with its type (as `podcast:transcript`
#: names it) and its writer.
TRANSCRIPTS = {
    ".vtt": ("text/vtt", lambda m, show: webvtt(m)),
    ".srt": ("application/x-subrip", lambda m, show: subrip(m)),
    ".transcript.json": ("application/json", lambda m, show: dumps_json(transcript_json(m))),
    ".transcript.html": ("text/html", transcript_html),
}
