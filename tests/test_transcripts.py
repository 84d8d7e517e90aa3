"""Transcripts in every format podcast apps read, parsed back as they would be: WebVTT by
webvtt-py, SRT by srt, the Podcasting 2.0 JSON transcript, HTML by lxml."""

from __future__ import annotations

import itertools
import json
import textwrap
from pathlib import Path

import hypothesis.strategies as st
import lxml.html
import srt
import webvtt
from helpers import Rendered
from hypothesis import given, settings
from lxml import etree

from listen.mix import TimedChapter, TimedSentence
from listen.publish import Manifest
from listen.script import PageBlock
from listen.transcripts import LINE_CHARS, cues, subrip, transcript_html, wrap
from listen.transcripts import webvtt as make_vtt

PODCAST = "{https://podcastindex.org/namespace/1.0}"
TYPES = {".vtt": "text/vtt", ".srt": "application/x-subrip",
         ".transcript.json": "application/json", ".transcript.html": "text/html"}  # fmt: skip
LONG = (
    "The council, which met on Tuesday evening in the old library after a delay of three "
    "weeks, voted to close the harbour road to lorries from May, to build a footbridge over "
    "the river by the end of next year, and to spend what is left of the fund on the school; "
    "the vote was seven to two."
)


def manifest(*sentences: TimedSentence, blocks: tuple[PageBlock, ...] = ()) -> Manifest:
    chapters = (TimedChapter("The title", 0, 5000), TimedChapter("What they decided", 5000,
                                                                 sentences[-1].end_ms))  # fmt: skip
    return Manifest(title="The title", slug="t", source=None, url=None, published=None,
                    language="en", voice="heart", duration_ms=sentences[-1].end_ms,
                    audio="t.mp3", chapters=chapters, sentences=sentences,
                    blocks=blocks)  # fmt: skip


def test_long_sentences_are_split_by_clauses_into_two_line_cues() -> None:
    made = manifest(
        TimedSentence("The title.", 0, 1500, 0, "heart", 0),
        TimedSentence("What they decided.", 5000, 6500, 1, "heart", 1),
        TimedSentence(LONG, 7000, 27_000, 1, "heart", 2),
        blocks=(PageBlock.of("title", "The title"), PageBlock.of("heading", "What they decided"),
                PageBlock.of("paragraph", LONG)),
    )  # fmt: skip
    captions = webvtt.from_string(make_vtt(made)).captions
    assert [c.text for c in captions[:2]] == ["The title", "What they decided"]  # no period
    parts = captions[2:]
    assert len(parts) >= 3
    assert " ".join(c.text.replace("\n", " ") for c in parts) == LONG
    shown = [c.text.split("\n") for c in parts]  # the lines shown (c.lines has the <v> tag)
    assert all(len(lines) <= 2 and all(len(line) <= LINE_CHARS for line in lines)
               for lines in shown)  # fmt: skip
    assert all(c.voice == "heart" for c in captions)
    # Split at clauses (each part but the last ends at a comma or semicolon), in time order,
    # covering the sentence's time exactly.
    assert all(c.text.rstrip()[-1] in ",;" for c in parts[:-1])
    times = [(c.start_time.in_milliseconds(), c.end_time.in_milliseconds()) for c in parts]
    assert times[0][0] == 7000 and times[-1][1] == 27_000
    assert all(a[1] == b[0] for a, b in itertools.pairwise(times))
    subtitles = list(srt.parse(subrip(made)))
    assert [s.content for s in subtitles] == [c.text for c in captions]


def test_balanced_lines_keep_every_word_whole() -> None:
    """Two lines of a cue are balanced in length, but never by breaking a word in two."""
    assert wrap("distinct negotiations", 20) == ["distinct", "negotiations"]
    assert wrap("The council voted seven to two on Tuesday night.", 30) == [
        "The council voted seven", "to two on Tuesday night."]  # fmt: skip
    words = LONG.split()
    for width in range(12, 60):
        for start, end in itertools.combinations(range(0, len(words) + 1, 3), 2):
            text = " ".join(words[start:end])
            lines = wrap(text, width)
            assert " ".join(lines).split() == text.split(), (text, width, lines)
            assert all(len(line) <= width for line in lines), (text, width, lines)


def wrap_by_search(text: str, width: int) -> list[str]:
    """Balanced lines as they were first found: textwrap at every narrower width in turn."""
    lines = textwrap.wrap(text, width, break_on_hyphens=False)
    if len(lines) == 2:
        for narrower in range(len(text) // 2, width):
            balanced = textwrap.wrap(text, narrower, break_on_hyphens=False,
                                     break_long_words=False)  # fmt: skip
            if len(balanced) == 2 and max(map(len, balanced)) <= width:
                return balanced
    return lines


@settings(max_examples=2000, deadline=None)
@given(
    words=st.lists(st.text(st.sampled_from("ab é-\xa0\t\u2009"), min_size=0, max_size=14),
                   min_size=1, max_size=14),
    width=st.integers(4, 70),
)
def test_balanced_lines_are_the_ones_the_search_finds(words: list[str], width: int) -> None:
    """The balanced break worked out at once is the one trying every width finds, for any
    text: single spaces or not, tabs, no-break spaces, words longer than half the text."""
    text = " ".join(words)
    assert wrap(text, width) == wrap_by_search(text, width), (text, width)


def test_balanced_lines_of_sentences_are_the_ones_the_search_finds() -> None:
    words = LONG.split()
    for width in (20, 32, 42, 60):
        for start, end in itertools.combinations(range(len(words) + 1), 2):
            text = " ".join(words[start:end])
            assert wrap(text, width) == wrap_by_search(text, width), (text, width)


def test_a_heading_read_as_two_sentences_is_shown_once() -> None:
    made = manifest(
        TimedSentence("The title.", 0, 1500, 0, "heart", 0),
        TimedSentence("What they decided?", 5000, 6000, 1, "heart", 1),
        TimedSentence("And why.", 6000, 6500, 1, "heart", 1),
        TimedSentence("They voted.", 7000, 8000, 1, "heart", 2),
        blocks=(PageBlock.of("title", "The title"),
                PageBlock.of("heading", "What they decided? And why."),
                PageBlock.of("paragraph", "They voted.")),
    )  # fmt: skip
    made = Manifest(**{**made.__dict__, "chapters": (
        made.chapters[0], TimedChapter("What they decided? And why.", 5000, 8000))})  # fmt: skip
    assert [(c.text, c.start_ms, c.end_ms) for c in cues(made)] == [
        ("The title", 0, 1500), ("What they decided? And why.", 5000, 6500),
        ("They voted.", 7000, 8000)]  # fmt: skip
    page = lxml.html.fromstring(transcript_html(made, "Show"))
    assert [h.text_content() for h in page.iter("h1", "h2")] == [
        "The title", "What they decided? And why."]  # fmt: skip
    assert [p.text_content() for p in page.iter("p")] == ["They voted."]


def test_every_transcript_is_listed_and_parses(espeak_episode: Rendered) -> None:
    episode = espeak_episode
    manifest = episode.manifest
    slug = manifest["slug"]
    item = etree.fromstring((episode.out / "feed.xml").read_bytes()).find("channel/item")
    listed = {t.get("url").rsplit("/", 1)[1]: (t.get("type"), t.get("rel"), t.get("language"))
              for t in item.iter(f"{PODCAST}transcript")}  # fmt: skip
    language = manifest["language"]
    assert listed == {
        f"{slug}.vtt": ("text/vtt", "captions", language),
        f"{slug}.srt": ("application/x-subrip", "captions", language),
        f"{slug}.transcript.json": ("application/json", None, language),
        f"{slug}.transcript.html": ("text/html", None, language),
    }
    path = episode.episodes / slug
    captions = webvtt.read(f"{path}.vtt").captions
    assert captions and all(c.voice == "espeak-en-us" for c in captions)
    shown = [c.text.split("\n") for c in captions]
    assert all(len(line) <= 65 for lines in shown for line in lines)
    assert max(len(lines) for lines in shown) == 2
    assert "<v espeak-en-us>" in Path(f"{path}.vtt").read_text(encoding="utf-8")

    def ms(value: float) -> int:
        return round(value * 1000)

    vtt = [(c.start_time.in_milliseconds(), c.end_time.in_milliseconds(), c.text)
           for c in captions]  # fmt: skip
    subtitles = [(ms(s.start.total_seconds()), ms(s.end.total_seconds()), s.content)
                 for s in srt.parse(Path(f"{path}.srt").read_text(encoding="utf-8"))]  # fmt: skip
    assert subtitles == vtt
    segments = json.loads(Path(f"{path}.transcript.json").read_text(encoding="utf-8"))
    assert set(segments) == {"version", "segments"}
    assert [(ms(s["startTime"]), ms(s["endTime"]), s["body"]) for s in segments["segments"]] == [
        (start, end, text.replace("\n", " ")) for start, end, text in vtt]  # fmt: skip
    assert {s["speaker"] for s in segments["segments"]} == {"espeak-en-us"}

    page = lxml.html.fromstring(Path(f"{path}.transcript.html").read_bytes())
    chapter_titles = [c["title"] for c in manifest["chapters"]]
    assert [h.text_content() for h in page.iter("h1", "h2")] == chapter_titles
    body = [p.text_content() for p in page.iter("p", "li")]
    assert not set(body) & {title for t in chapter_titles for title in (t, t + ".")}
    sentences = [s["text"] for s in manifest["sentences"]]
    shown = " ".join(body)
    assert all(s in shown for s in sentences if s.rstrip(".") not in
               [t.rstrip(".") for t in chapter_titles])  # fmt: skip
