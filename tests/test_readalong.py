"""What on-page read-along is made from: the page blocks each sentence reads, their text
fingerprints, and the manifest fields that carry them (added without breaking older readers).
The matching itself, in the browser, is tested in tests/test_player_page.py."""

from __future__ import annotations

import json

import pytest
from helpers import SEED, Rendered

from listen.config import SpeechConfig
from listen.extract import extract_file
from listen.mix import TimedSentence
from listen.publish import Manifest, read_manifest
from listen.script import build_script, match_key, text_fingerprint


@pytest.mark.parametrize(
    ("written", "marked_up"),
    [
        ("It’s “fine” — really.", 'It\'s "fine" - really.'),  # typographic quotes and dashes
        ("Two  spaces\nand a\u00a0no-break space", "Two spaces and a no-break space"),
        ("Café crème", "Cafe\u0301 cre\u0300me"),  # composed or not
        ("The ﬁnal ﬁgure: ２０２４", "The final figure: 2024"),  # ligatures, full-width digits
        ("ΟΔΟΣ", "οδος"),  # case, including the final sigma
        ("Khan Yunis, southern Gaza Strip", "KHAN YUNIS southern gaza strip"),
    ],
)
def test_fingerprints_ignore_what_markup_and_typography_change(
    written: str, marked_up: str
) -> None:
    assert match_key(written) == match_key(marked_up)
    assert text_fingerprint(written) == text_fingerprint(marked_up)


def test_fingerprints_tell_different_words_apart() -> None:
    assert text_fingerprint("The IDF announced") != text_fingerprint("The IDF denounced")
    assert text_fingerprint("Hamas said no.") != text_fingerprint("Hamas said no. Again.")
    key = match_key("Αθήνα & Zürich: 17.6%")
    assert key == "αθηνα" + "zurich176"
    length, digest = text_fingerprint("Αθήνα & Zürich: 17.6%").split("-")
    assert int(length, 16) == len(key) and len(digest) == 8


def test_every_sentence_knows_the_page_block_it_reads() -> None:
    article = extract_file(SEED)
    speech = SpeechConfig(chapter_numbers=True, intro="Welcome to {show}.", outro="The end.")
    script = build_script(article, speech, show_title="Example News")
    blocks = script.blocks
    page_texts = [article.title] + [
        text
        for section in article.sections
        for text in ([section.heading] if section.heading else [])
        + [b.text for b in section.blocks]
    ]
    assert [b.fingerprint for b in blocks] == [text_fingerprint(t) for t in page_texts]
    assert [b.kind for b in blocks][:2] == ["title", "heading"]
    assert {b.kind for b in blocks[2:]} == {"heading", "list_item"}  # the seed's <ol><li><p>
    assert sum(b.kind == "heading" for b in blocks) == len(article.sections) - 1

    sentences = script.sentences
    not_on_page = [s.text for s in sentences if s.block is None]
    assert not_on_page == ["Welcome to Example News.", "Chapter 2.", "Chapter 3.", "The end."]
    # A block's sentences are its text, in order: the player finds each inside the block.
    for index, block in enumerate(blocks):
        read = [s.text for s in sentences if s.block == index]
        assert read, block
        assert match_key("".join(read)) == match_key(page_texts[index])
    assert [s.block for s in sentences if s.block is not None] == sorted(
        s.block for s in sentences if s.block is not None
    )


def test_manifest_carries_blocks_and_reads_older_manifests(espeak_episode: Rendered) -> None:
    manifest = espeak_episode.manifest
    blocks = manifest["blocks"]
    assert blocks[0] == {
        "kind": "title",
        "fingerprint": text_fingerprint(manifest["title"]),
    }
    assert all(set(b) == {"kind", "fingerprint"} for b in blocks)
    assert all(0 <= s["block"] < len(blocks) for s in manifest["sentences"])
    # Everything a reader of the first manifests used is where it was.
    for name in ("title", "slug", "duration_ms", "audio", "chapters"):
        assert name in manifest
    assert set(manifest["sentences"][0]) >= {"text", "start_ms", "end_ms", "chapter"}

    parsed = Manifest.from_json(manifest)
    assert parsed.to_json() == manifest
    older = {**manifest, "sentences": [dict(s) for s in manifest["sentences"]]}
    del older["blocks"]
    for sentence in older["sentences"]:
        del sentence["block"]
    old = Manifest.from_json(older)
    assert old.blocks == () and all(s.block is None for s in old.sentences)
    assert old.sentences[0] == TimedSentence(**{**older["sentences"][0]})


def test_published_manifest_round_trips_from_disk(espeak_episode: Rendered) -> None:
    path = espeak_episode.out / "episodes" / f"{espeak_episode.manifest['slug']}.json"
    manifest = read_manifest(path)
    assert manifest is not None
    assert json.loads(path.read_text(encoding="utf-8")) == manifest.to_json()
