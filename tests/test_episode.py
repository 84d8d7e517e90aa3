"""The rendered seed episode, checked the way a listener's tools see it: ffprobe, mutagen,
the decoded audio, the transcript, the manifest. Every voice: espeak (fast), joe (Piper) and
heart (hibari)."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import webvtt
from helpers import SEED_CHROME, Rendered, decode_pcm, ebur128, ffprobe
from mutagen.id3 import ID3, CTOCFlags
from mutagen.mp3 import MP3

SEED_TITLES = [
    "IDF Seizures and Al-Qassam Counterattacks: Ceasefire Talks Stalemate, Global Reactions Shift",
    "IDF Seizure of Hamas Facilities and Al-Qassam Brigades’ Counterattacks.",
    "Ceasefire Stalemate: Hamas’s Demands Clash with Israel’s Security Objectives.",
]
RATE = 22050


@pytest.fixture(params=["espeak_episode", pytest.param("joe_episode", marks=pytest.mark.piper),
                        pytest.param("heart_episode", marks=pytest.mark.hibari)])  # fmt: skip
def episode(request: pytest.FixtureRequest) -> Rendered:
    return request.getfixturevalue(request.param)


def test_ffprobe_lists_the_three_chapters_in_order(episode: Rendered) -> None:
    chapters = ffprobe(episode.audio, "-show_chapters")["chapters"]
    assert [c["tags"]["title"] for c in chapters] == SEED_TITLES
    starts = [float(c["start_time"]) for c in chapters]
    ends = [float(c["end_time"]) for c in chapters]
    assert starts[0] == 0.0
    assert starts == sorted(starts) and all(e > s for s, e in zip(starts, ends, strict=True))
    assert ends[:-1] == starts[1:]
    manifest = episode.manifest["chapters"]
    assert starts == pytest.approx([c["start_ms"] / 1000 for c in manifest], abs=0.001)
    assert ends == pytest.approx([c["end_ms"] / 1000 for c in manifest], abs=0.001)


def test_mutagen_reads_back_chap_ctoc_and_tags(episode: Rendered) -> None:
    tags = ID3(episode.audio)
    assert tags.version[:2] == (2, 4)
    assert str(tags["TIT2"]) == SEED_TITLES[0]
    assert str(tags["TPE1"]) == "Daniel Sharon"
    assert str(tags["TPE2"]) == "Example News"  # the show's author, as in the M4A's aART
    assert str(tags["TALB"]) == "Example News: Audio Edition"
    assert str(tags["TDRC"]).startswith("2024-02-15")
    assert str(tags["TLAN"]) == "eng"
    assert tags["WOAS"].url.startswith("https://www.example-news.org/idf-seizures")
    assert tags.getall("APIC")[0].mime == "image/png"
    (toc,) = tags.getall("CTOC")
    assert toc.flags & CTOCFlags.TOP_LEVEL and toc.flags & CTOCFlags.ORDERED
    chaps = {c.element_id: c for c in tags.getall("CHAP")}
    assert list(toc.child_element_ids) == sorted(chaps, key=lambda e: chaps[e].start_time)
    titles = [str(chaps[e].sub_frames["TIT2"]) for e in toc.child_element_ids]
    assert titles == SEED_TITLES
    ms = [(chaps[e].start_time, chaps[e].end_time) for e in toc.child_element_ids]
    assert ms == [(c["start_ms"], c["end_ms"]) for c in episode.manifest["chapters"]]


def test_transcript_has_the_body_and_none_of_the_chrome(episode: Rendered) -> None:
    path = next(episode.episodes.glob("*.vtt"))
    assert path.read_text(encoding="utf-8").startswith("WEBVTT\n")
    vtt = " ".join(caption.text.replace("\n", " ") for caption in webvtt.read(path))
    for sentence in (
        "The IDF announced the discovery and takeover of a notable Hamas military installation",
        "Abu Ubaida underscored the tactical victories of their fighters",
        "is preparing a $17.6 billion military aid package for Israel.",
        "indicating a significant shift in international alliances.",
    ):
        assert sentence in vtt
    for chrome in SEED_CHROME:
        assert chrome.lower() not in vtt.lower()


def test_every_chapter_is_audible(episode: Rendered) -> None:
    pcm = decode_pcm(episode.audio, RATE).astype(np.float64) / 32768
    for chapter in episode.manifest["chapters"]:
        part = pcm[chapter["start_ms"] * RATE // 1000 : chapter["end_ms"] * RATE // 1000]
        rms_db = 20 * np.log10(np.sqrt(np.mean(part**2)) + 1e-12)
        assert rms_db > -35, (chapter["title"], rms_db)


def test_chapters_start_where_their_audio_starts(episode: Rendered) -> None:
    pcm = np.abs(decode_pcm(episode.audio, RATE).astype(np.int32))
    loud = 0.05 * pcm.max()
    for chapter in episode.manifest["chapters"][1:]:
        start = chapter["start_ms"] * RATE // 1000
        # Search from inside the pause before the chapter for the first speech.
        window = pcm[start - RATE // 2 : start + RATE]
        onset = start - RATE // 2 + int(np.argmax(window > loud))
        assert abs(onset - start) * 1000 / RATE <= 50, chapter["title"]


def test_sentence_times_follow_the_speech(episode: Rendered) -> None:
    pcm = np.abs(decode_pcm(episode.audio, RATE).astype(np.float64)) / 32768
    sentences = episode.manifest["sentences"]
    for before, after in itertools.pairwise(sentences):
        gap = pcm[before["end_ms"] * RATE // 1000 + 200 : after["start_ms"] * RATE // 1000 - 200]
        assert gap.size > 0 and gap.max() < 0.02, (before["text"], after["text"])


def test_manifest_vtt_and_file_durations_agree(episode: Rendered) -> None:
    manifest = episode.manifest
    duration = float(ffprobe(episode.audio, "-show_format")["format"]["duration"])
    assert duration * 1000 == pytest.approx(manifest["duration_ms"], abs=120)
    assert MP3(episode.audio).info.length * 1000 == pytest.approx(manifest["duration_ms"], abs=120)
    assert manifest["chapters"][-1]["end_ms"] == manifest["duration_ms"]
    # Every sentence's time is covered by its cues, exactly: a long one is split into several.
    captions = webvtt.read(next(episode.episodes.glob("*.vtt")))
    times = [(c.start_time.in_milliseconds(), c.end_time.in_milliseconds()) for c in captions]
    edges = {edge for pair in times for edge in pair}
    for sentence in manifest["sentences"]:
        assert sentence["start_ms"] in edges and sentence["end_ms"] in edges, sentence["text"]
    assert all(start < end for start, end in times)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(times))
    assert times[-1][1] == manifest["sentences"][-1]["end_ms"] <= manifest["duration_ms"]


def test_json_chapters_follow_podcasting_2_0(episode: Rendered) -> None:
    data = json.loads(next(episode.episodes.glob("*.chapters.json")).read_text())
    assert data["version"] == "1.2.0"
    assert [c["title"] for c in data["chapters"]] == SEED_TITLES
    assert [c["startTime"] for c in data["chapters"]] == [
        c["start_ms"] / 1000 for c in episode.manifest["chapters"]
    ]


def test_loudness_meets_the_podcast_target(episode: Rendered) -> None:
    integrated, true_peak = ebur128(episode.audio)
    assert integrated == pytest.approx(-16, abs=1.0)
    assert true_peak <= -1.0


def test_no_clicks_at_joins(episode: Rendered) -> None:
    """At every sentence boundary the waveform moves smoothly. A click is a step at the join
    itself: a take that starts or stops at full level instead of fading (over 8 ms) from or to
    silence. The manifest's times are whole milliseconds, so the join is within 1 ms of them;
    there the largest jump must stay under 0.05 of full scale (measured: faded, at most 0.03
    with joe, 0.01 with espeak-ng and heart; joe's takes unfaded, 0.085-0.15). Further in, 2-3 ms
    into a take that opens on a sibilant, the fade is a third of the way up and speech's own
    jumps reach 0.1 (the largest jumps of speech are about 0.28)."""
    pcm = decode_pcm(episode.audio, RATE).astype(np.float64) / 32768
    jumps = np.abs(np.diff(pcm))
    window = RATE // 1000
    for sentence in episode.manifest["sentences"]:
        for edge_ms in (sentence["start_ms"], sentence["end_ms"]):
            edge = edge_ms * RATE // 1000
            assert jumps[max(edge - window, 0) : edge + window].max(initial=0) < 0.05, sentence


def test_mp3_is_mono_and_at_least_64_kbps(episode: Rendered) -> None:
    (stream,) = ffprobe(episode.audio, "-show_streams", "-select_streams", "a")["streams"]
    assert stream["codec_name"] == "mp3" and stream["channels"] == 1
    assert int(stream["bit_rate"]) >= 64000
