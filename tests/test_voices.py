"""Which voice reads what: the page's language picks the voice (never one of another language),
system voices by name, and a second voice for quotations, matched in loudness."""

from __future__ import annotations

import json
import re
import signal
import sys
import threading
import wave
from collections.abc import Iterator
from pathlib import Path

import feedparser
import numpy as np
import pytest
import webvtt
from helpers import ROOT, decode_pcm, ebur128, run_listen

from listen.config import VoicePreset, load_config
from listen.engines.pyttsx3 import Pyttsx3Engine
from listen.lifeline import Terminated, terminate_like_interrupt
from listen.pipeline import render, script_page

PAGES = ROOT / "tests" / "voices"
FRENCH, GERMAN, QUOTES = PAGES / "fr-article.html", PAGES / "de-article.html", PAGES / "quotes.html"
ENGLISH_NUMBER_WORDS = re.compile(r"\b(twelve|thousand|hundred|seventeen|percent|point)\b")


def site(tmp_path: Path, body: str = "") -> Path:
    config = tmp_path / "site" / "listen.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[show]\ntitle = "Voices"\nbase_url = "https://example.org/listen/"\n'
                      + body, encoding="utf-8")  # fmt: skip
    return config


@pytest.fixture
def heard(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    """(espeak-ng voice, text) for every unit the system voice synthesizes in this process."""
    calls: list[tuple[str, str]] = []
    original = Pyttsx3Engine.synthesize

    def spy(self: Pyttsx3Engine, text: str) -> np.ndarray:
        calls.append((self._espeak_voice, text))
        return original(self, text)

    monkeypatch.setattr(Pyttsx3Engine, "synthesize", spy)
    yield calls


def manifest_of(out: Path) -> dict:
    episodes = (out / "episodes").glob("*.json")
    (path,) = (p for p in episodes if "." not in p.stem)  # not chapters, not a transcript
    return json.loads(path.read_text(encoding="utf-8"))


def test_a_french_page_is_read_by_a_french_voice_in_french(
    tmp_path: Path, heard: list[tuple[str, str]]
) -> None:
    """No preset speaks French (the default heart is English), so the system's French voice
    reads it, with the numbers, dates, money and abbreviations said in French."""
    out = tmp_path / "public"
    (result,) = render([FRENCH], out, load_config(site(tmp_path)), jobs=1)
    manifest = manifest_of(out)
    assert manifest["voice"] == "system:fr" and manifest["language"] == "fr-FR"
    assert {voice for voice, _ in heard} == {"roa/fr"}
    spoken = " ".join(text for _, text in heard)
    for said in ("douze pour cent en deux mille vingt-cinq", "le quatorze janvier",
                 "un million deux cent cinquante mille euros", "Monsieur Laurent",
                 "dix-huit heures trente", "trois virgule cinq millions d'euros",
                 "Le premier septembre", "vingt et unième siècle", "par exemple",
                 "trois kilomètres"):  # fmt: skip
        assert said in spoken, said
    assert not ENGLISH_NUMBER_WORDS.search(spoken)
    assert not re.search(r"\d", spoken)
    # The episode says its language: the manifest, the feed's transcript link, the ID3 tag.
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert feed.entries[0].podcast_transcript["language"] == "fr-FR"
    assert "<v system:fr>" in (out / "episodes" / f"{manifest['slug']}.vtt").read_text("utf-8")
    assert result.audio_path.stat().st_size > 10_000


def test_a_german_page_is_read_by_the_voice_the_site_maps_to_german(
    tmp_path: Path, heard: list[tuple[str, str]]
) -> None:
    voices = tmp_path / "site" / "voices"
    voices.mkdir(parents=True)
    (voices / "stimme.toml").write_text(
        'name = "stimme"\nengine = "pyttsx3"\nvoice = "gmw/de"\nlanguage = "de-DE"\n',
        encoding="utf-8",
    )
    config = site(tmp_path, '[voices]\ndirs = ["voices"]\nby_language = { de = "stimme" }\n')
    extracted = json.loads(run_listen("extract", GERMAN, "--config", config).stdout)
    assert extracted["voice"] == "stimme" and extracted["language"] == "de-DE"
    out = tmp_path / "public"
    render([GERMAN], out, load_config(config), jobs=1)
    assert manifest_of(out)["voice"] == "stimme"
    assert {voice for voice, _ in heard} == {"gmw/de"}
    spoken = " ".join(text for _, text in heard)
    for said in ("am vierzehnten Januar", "eine Million zweihundertfünfzigtausend Euro",
                 "Doktor Fischer", "achtzehn Uhr dreißig", "zum Beispiel",
                 "drei Komma fünf Millionen Euro", "Zum ersten September",
                 "viertausendzweihundert", "unter anderem", "zwei Komma fünf Prozent",
                 "drei Kilometer"):  # fmt: skip
        assert said in spoken, said
    assert not ENGLISH_NUMBER_WORDS.search(spoken) and not re.search(r"\d", spoken)
    # "am 14. Januar" and "Dr. Fischer" did not end sentences.
    sentences = [s["text"] for s in manifest_of(out)["sentences"]]
    assert any(s.startswith("Der Stadtrat hat am 14. Januar") and s.endswith("beschlossen.")
               for s in sentences)  # fmt: skip


def test_system_voices_by_name_without_a_preset_file(tmp_path: Path) -> None:
    config = site(tmp_path)
    out = tmp_path / "public"
    done = run_listen("render", GERMAN, "--out", out, "--config", config, "--voice", "system:de",
                      "--no-feed")  # fmt: skip
    assert "3 chapters" in done.stdout
    assert manifest_of(out)["voice"] == "system:de"
    # Any id or name `listen voices` lists works too, and it says how to make a preset.
    listed = run_listen("voices", "--config", config).stdout
    assert re.search(r"gmw/de\s+German", listed) and "--voice system:" in listed
    assert 'engine = "pyttsx3"' in listed
    for name in ("gmw/de", "German"):
        assert script_page(GERMAN, load_config(config), voice=name).voice == "system:de"
    bad = run_listen("render", GERMAN, "--out", out, "--voice", "system:nowhere", check=False)
    assert bad.returncode == 1 and "unknown voice 'system:nowhere'" in bad.stderr


def test_a_page_no_voice_speaks_is_refused_not_read_in_another_language(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(QUOTES.read_text(encoding="utf-8").replace('lang="en-US"', 'lang="qq"'),
                    encoding="utf-8")  # fmt: skip
    done = run_listen("render", page, "--out", tmp_path / "public", "--config", site(tmp_path),
                      check=False)  # fmt: skip
    assert done.returncode == 1
    assert "error: no voice speaks the page's language 'qq'" in done.stderr
    assert not (tmp_path / "public" / "episodes").exists()


def test_quotations_go_to_the_quote_voice_only_where_it_speaks_the_language(
    tmp_path: Path,
) -> None:
    block_only = load_config(site(tmp_path, '[speech]\nquote_voice = "heart"\n'))
    script = script_page(QUOTES, block_only, voice="espeak-en-us")
    voiced = {s.text: s.voice for s in script.sentences}
    assert voiced["We have waited ten years for this pier."] == "heart"
    assert voiced["The public will see every drawing before a single pile is driven."] == "heart"
    # Without quote_voice_inline, a quoted sentence in a paragraph stays with the narrator.
    inline = next(t for t in voiced if t.startswith("“This pier"))
    assert voiced[inline] == "espeak-en-us"
    assert sum(v == "heart" for v in voiced.values()) == 3  # the two blockquotes' sentences
    # The quote voice speaks English: on a French page the French voice reads the quotation.
    french = script_page(FRENCH, block_only)
    assert {s.voice for s in french.sentences} == {"system:fr"}
    extracted = json.loads(run_listen("extract", QUOTES, "--config", tmp_path / "site" /
                                      "listen.toml").stdout)  # fmt: skip
    # heart is also the narrator there (the default voice): one voice reads everything.
    assert extracted["voice"] == "heart" and extracted["quote_voice"] is None
    assert {s.voice for s in script_page(QUOTES, block_only).sentences} == {"heart"}


def voice_loudness(audio: Path, manifest: dict, voice: str, folder: Path) -> float:
    """Integrated loudness of one voice's sentences, cut from the episode at the manifest's
    times and measured by ffmpeg's ebur128."""
    rate = 22050
    pcm = decode_pcm(audio, rate)
    parts = [pcm[s["start_ms"] * rate // 1000 : s["end_ms"] * rate // 1000]
             for s in manifest["sentences"] if s["voice"] == voice]  # fmt: skip
    path = folder / f"{voice}.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(np.concatenate(parts).tobytes())
    return ebur128(path)[0]


@pytest.mark.hibari
def test_a_second_voice_reads_the_quotations_at_the_same_loudness(tmp_path: Path) -> None:
    config = site(tmp_path, '[speech]\nquote_voice = "heart"\nquote_voice_inline = true\n')
    out = tmp_path / "public"
    run_listen("render", QUOTES, "--out", out, "--config", config, "--voice", "espeak-en-us")
    manifest = manifest_of(out)
    voices = {s["text"]: s["voice"] for s in manifest["sentences"]}
    assert manifest["voice"] == "espeak-en-us"
    quoted = [t for t, v in voices.items() if v == "heart"]
    assert quoted == [
        "“This pier will carry a thousand passengers an hour and end the summer queues for "
        "good,” said the board’s chair, Maria Lindqvist.",
        "We have waited ten years for this pier.",
        "It will let us run a crossing every twenty minutes, in every season, and hire forty "
        "new crew.",
        "The public will see every drawing before a single pile is driven.",
    ]
    assert voices["Work starts in June and should take eighteen months."] == "espeak-en-us"
    # The transcript names the speaker of every cue.
    captions = webvtt.read(out / "episodes" / f"{manifest['slug']}.vtt").captions
    voice_at = {c.start_time.in_milliseconds(): c.voice for c in captions}
    assert all(c.voice for c in captions)
    assert [voice_at[s["start_ms"]] for s in manifest["sentences"]] == [
        s["voice"] for s in manifest["sentences"]]  # fmt: skip
    assert ("heart", "We have waited ten years for this pier.") in [
        (c.voice, c.text) for c in captions]  # fmt: skip
    # Loudness: the episode at -16 LUFS, and each voice within 1 LU of the other.
    audio = out / "episodes" / manifest["audio"]
    assert ebur128(audio)[0] == pytest.approx(-16, abs=1.0)
    narrator = voice_loudness(audio, manifest, "espeak-en-us", tmp_path)
    quote = voice_loudness(audio, manifest, "heart", tmp_path)
    assert abs(narrator - quote) <= 1.0, (narrator, quote)
    # The quotation voice (24 kHz) was resampled to the narrator's rate: times stay exact.
    pcm = np.abs(decode_pcm(audio, 22050).astype(np.int32))
    for sentence in manifest["sentences"]:
        start = sentence["start_ms"] * 22050 // 1000
        before = max(start - 22050 // 5, 0)  # inside the pause (at least 350 ms) before it
        onset = before + int(np.argmax(pcm[before : start + 22050] > 0.05 * pcm.max()))
        assert abs(onset - start) * 1000 / 22050 <= 50, sentence["text"]


def test_every_espeak_call_holds_the_process_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    """espeak-ng is one synthesizer per process: choosing or listing voices while another
    thread synthesizes swaps its tables under that thread (a segfault in the suite once)."""
    from pyttsx3.drivers import _espeak

    from listen.engines import pyttsx3 as system

    calls: list[tuple[str, bool]] = []
    for name in ("ListVoices", "SetVoiceByName", "SetParameter", "Synth", "Synchronize",
                 "SetSynthCallback", "Info"):  # fmt: skip
        original = getattr(_espeak, name)

        def watched(*args, _original=original, _name=name, **kwargs):  # type: ignore[no-untyped-def]
            calls.append((_name, system.ESPEAK_LOCK._is_owned()))
            return _original(*args, **kwargs)

        monkeypatch.setattr(_espeak, name, watched)
    monkeypatch.setattr(system, "_espeak_version", system._espeak_version.__wrapped__)
    monkeypatch.setattr(system, "system_voice_list", system.system_voice_list.__wrapped__)
    engine = Pyttsx3Engine(VoicePreset(name="fr", engine="pyttsx3", language="fr"))
    assert engine.synthesize("Bonjour à tous.").size > 0
    assert engine.identity()["backend_version"]
    assert system.system_voice_list()
    assert {name for name, _ in calls} >= {"ListVoices", "SetVoiceByName", "Synth", "Info"}
    assert all(held for _, held in calls), [name for name, held in calls if not held]


def test_espeak_speaks_in_the_calling_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """Synchronous mode: no thread of espeak-ng's own to wait for (in retrieval mode its
    `Synchronize` polls in 20 ms sleeps, which set the pace of every short sentence)."""
    from pyttsx3.drivers import _espeak

    callers: list[int] = []
    original = _espeak.SetSynthCallback

    def watched(callback):  # type: ignore[no-untyped-def]
        def recording(*args):  # type: ignore[no-untyped-def]
            callers.append(threading.get_ident())
            return callback(*args)

        return original(recording)

    monkeypatch.setattr(_espeak, "SetSynthCallback", watched)
    engine = Pyttsx3Engine(VoicePreset(name="en", engine="pyttsx3", language="en"))
    for text in ("Hello there.", "The talks resumed on Tuesday, after a week of silence."):
        assert engine.synthesize(text).size > 0
    assert callers and set(callers) == {threading.get_ident()}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="espeak-ng's binding")
@pytest.mark.parametrize(("signum", "raised"), [(signal.SIGTERM, Terminated),
                                                (signal.SIGINT, KeyboardInterrupt)],
                         ids=["SIGTERM", "SIGINT"])  # fmt: skip
def test_a_signal_inside_espeak_synthesis_still_stops_the_command(
    monkeypatch: pytest.MonkeyPatch, signum: signal.Signals, raised: type[BaseException]
) -> None:
    """espeak-ng calls back into Python in the thread that synthesizes: a SIGTERM or Ctrl-C
    whose handler would run inside that callback must still stop the command (ctypes drops
    what a callback raises: `listen say` once carried on after SIGTERM and exited 0)."""
    from pyttsx3.drivers import _espeak

    signalled: list[int] = []
    original = _espeak.SetSynthCallback

    def signalling(callback):  # type: ignore[no-untyped-def]
        def inside(*args):  # type: ignore[no-untyped-def]
            if not signalled:
                signalled.append(signum)
                signal.raise_signal(signum)  # a handler would run here, inside the callback
            return callback(*args)

        return original(inside)

    engine = Pyttsx3Engine(VoicePreset(name="en", engine="pyttsx3", language="en"))
    text = " ".join(["A long sentence that takes espeak a while."] * 10)
    whole = engine.synthesize(text)
    monkeypatch.setattr(_espeak, "SetSynthCallback", signalling)
    previous, interrupt = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    terminate_like_interrupt()
    try:
        with pytest.raises(raised):
            engine.synthesize(text)
        # A handler that does not stop the command (an API render process's) runs, and the
        # take is whole: holding the signal never cuts the sentence short.
        handled: list[int] = []
        signal.signal(signum, lambda number, frame: handled.append(number))
        signalled.clear()
        take = engine.synthesize(text)
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, interrupt)
    assert signalled == handled == [signum]
    assert abs(take.size - whole.size) < 0.02 * whole.size  # espeak-ng varies by a few frames
