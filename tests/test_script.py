"""The narration script: sentence splitting, bounded units, normalization for speech."""

from __future__ import annotations

import pytest

from listen.normalize import normalize_for_speech
from listen.script import MAX_UNIT_CHARS, bound_length, split_sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dr. Smith arrived. He sat down.", ["Dr. Smith arrived.", "He sat down."]),
        ("It rose 17.6 percent. Then it fell.", ["It rose 17.6 percent.", "Then it fell."]),
        (
            "On Jan. 5 the U.S. envoy left. Talks ended.",
            ["On Jan. 5 the U.S. envoy left.", "Talks ended."],
        ),
        ("J. R. R. Tolkien wrote it. Fans agree.", ["J. R. R. Tolkien wrote it.", "Fans agree."]),
        ("“Stop,” she said. “Now.” He did.", ["“Stop,” she said.", "“Now.”", "He did."]),
        ("Is it? Yes! Fine.", ["Is it?", "Yes!", "Fine."]),
        ("He works for Acme Inc. The firm grew.", ["He works for Acme Inc.", "The firm grew."]),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_long_sentences_are_split_at_clauses() -> None:
    sentence = ", ".join(f"clause number {i} of a very long sentence" for i in range(40)) + "."
    units = bound_length(sentence)
    assert len(units) > 1
    assert all(len(u) <= MAX_UNIT_CHARS for u in units)
    assert " ".join(units) == sentence


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("a $17.6 billion package", "a seventeen point six billion dollars package"),
        ("it cost $2,340", "it cost two thousand three hundred and forty dollars"),
        ("€5m in aid", "five million euros in aid"),
        ("up 51%", "up fifty-one percent"),
        ("Dr. Jones", "Doctor Jones"),
        ("from 2019-2021", "from twenty nineteen to twenty twenty-one"),
        ("the 3rd time", "the third time"),
        ("Smith & Sons", "Smith and Sons"),
    ],
)
def test_normalize_for_speech(written: str, spoken: str) -> None:
    assert normalize_for_speech(written) == spoken


def test_numbers_are_read_in_the_pages_language() -> None:
    assert normalize_for_speech("Er zahlte 17 Euro.", "de") == "Er zahlte siebzehn Euro."


def test_intro_outro_and_chapter_numbers() -> None:
    from helpers import SEED

    from listen.config import SpeechConfig
    from listen.extract import extract_file
    from listen.script import build_script

    article = extract_file(SEED)
    speech = SpeechConfig(
        chapter_numbers=True,
        intro="You are listening to an audio edition of {title} from {show}.",
        outro="This was {title}, by {byline}.",
    )
    script = build_script(article, speech, show_title="Example News")
    first, second, last = script.chapters[0], script.chapters[1], script.chapters[-1]
    assert first.sentences[0].text == (
        f"You are listening to an audio edition of {article.title} from Example News."
    )
    assert first.sentences[1].text.startswith(article.title)
    assert second.sentences[0].text == "Chapter 2."
    assert second.title == "IDF Seizure of Hamas Facilities and Al-Qassam Brigades’ Counterattacks."
    assert last.sentences[-1].text == f"This was {article.title}, by Daniel Sharon."
    assert [c.title for c in script.chapters] == [c.title for c in build_script(article).chapters]
