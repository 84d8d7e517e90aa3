"""The pronunciation lexicon: matching rules, both engines receiving the fix, the cache key."""

from __future__ import annotations

import re
import wave
from pathlib import Path

import pytest
from helpers import CONFIG, SEED, run_listen

from listen.config import find_preset, load_config
from listen.engines.hibari import HibariEngine
from listen.engines.piper import PiperEngine
from listen.engines.pyttsx3 import Pyttsx3Engine
from listen.lexicon import Entry, Lexicon, article_lexicon, ipa_to_misaki, parse_lexicon
from listen.pipeline import script_page

LEXICON = """
IDF = "I D F"
"Al-Qassam Brigades" = "al kassam brigades"
[Sinwar]
say = "sin war"
ipa = "sɪnwˈɑːɹ"
espeak = "sInw'A@"
[US]
say = "U S"
"""


def test_whole_words_case_rules_and_phrases_first() -> None:
    lexicon = parse_lexicon(
        {"IDF": "I D F", "US": "U S", "gaza": "gahza", "Gaza Strip": "the strip"}, "test"
    )
    assert lexicon.apply("The IDF and the idf's IDFs", None) == "The I D F and the idf's IDFs"
    assert lexicon.apply("US aid reached us", None) == "U S aid reached us"  # case-sensitive
    assert lexicon.apply("Gaza, GAZA and gaza", None) == "gahza, gahza and gahza"
    assert lexicon.apply("the Gaza Strip", None) == "the the strip"


def test_phonemes_in_each_engine_notation() -> None:
    entry = Entry("Sinwar", say="sin war", ipa="sɪnwˈɑːɹ", espeak="sInw'A@")
    lexicon = Lexicon((entry,))
    assert lexicon.apply("Yahya Sinwar said", "ipa") == "Yahya [[sɪnwˈɑːɹ]] said"
    assert lexicon.apply("Yahya Sinwar said", "espeak") == "Yahya [[sInw'A@]] said"
    assert lexicon.apply("Yahya Sinwar said", None) == "Yahya sin war said"
    # hibari reads misaki's alphabet: the IPA converted, or the entry's own spelling.
    assert lexicon.apply("Yahya Sinwar said", "misaki") == "Yahya [[sɪnwˈɑɹ]] said"
    assert ipa_to_misaki("ˈoʊvɚdʒˈeɪ") == "ˈOvəɹʤˈA"
    own = Lexicon((Entry("Gaza", say="gahza", misaki="ɡˈɑzə"),))
    assert own.apply("in Gaza", "misaki") == "in [[ɡˈɑzə]]"


def test_bad_entries_are_refused() -> None:
    from listen.errors import ListenError

    with pytest.raises(ListenError, match="needs say, ipa, espeak or misaki"):
        parse_lexicon({"X": {"case_sensitive": True}}, "lex.toml")
    with pytest.raises(ListenError, match="string or a table"):
        parse_lexicon({"X": 3}, "lex.toml")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "lexicon.toml").write_text(LEXICON, encoding="utf-8")
    config = tmp_path / "listen.toml"
    config.write_text(
        CONFIG.read_text(encoding="utf-8").replace(
            'artwork = "artwork.png"', f'artwork = "{CONFIG.parent / "artwork.png"}"'
        )
        + '\n[speech]\nlexicon = "lexicon.toml"\n',
        encoding="utf-8",
    )
    return config


def test_script_gives_each_engine_its_notation(site: Path) -> None:
    config = load_config(site)
    joe = " ".join(script_page(SEED, config, "joe").units)
    espeak = " ".join(script_page(SEED, config, "espeak-en-us").units)
    assert "[[sɪnwˈɑːɹ]]" in joe and "[[sInw'A@]]" in espeak
    assert "Sinwar" not in joe and "Sinwar" not in espeak
    assert "al kassam brigades" in joe and "I D F" in espeak


def test_article_overrides_beside_the_page(tmp_path: Path, site: Path) -> None:
    page = tmp_path / "story.html"
    page.write_bytes(SEED.read_bytes())
    (tmp_path / "story.lexicon.toml").write_text('IDF = "Israel Defense Forces"\n')
    assert article_lexicon(page).entries[0].say == "Israel Defense Forces"
    units = " ".join(script_page(page, load_config(site), "espeak-en-us").units)
    assert "Israel Defense Forces" in units and "I D F" not in units


@pytest.mark.parametrize("voice", ["espeak-en-us", pytest.param("joe", marks=pytest.mark.piper),
                                   pytest.param("heart", marks=pytest.mark.hibari)])  # fmt: skip
def test_engines_receive_the_override(
    voice: str, site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    heard: list[str] = []
    engine_class = {"joe": PiperEngine, "heart": HibariEngine}.get(voice, Pyttsx3Engine)
    original = engine_class.synthesize

    def spy(self, text: str):  # type: ignore[no-untyped-def]
        heard.append(text)
        return original(self, text)

    monkeypatch.setattr(engine_class, "synthesize", spy)
    from listen.pipeline import say

    audition = say("Yahya Sinwar spoke to the IDF.", tmp_path / "say.wav", load_config(site),
                   voice=voice)  # fmt: skip
    notation = {"joe": "[[sɪnwˈɑːɹ]]", "heart": "[[sɪnwˈɑɹ]]"}.get(voice, "[[sInw'A@]]")
    assert any(notation in text and "I D F" in text for text in heard), heard
    with wave.open(str(audition.path)) as wav:
        assert wav.getnframes() / wav.getframerate() > 1.0
    if voice == "joe":  # Piper reads [[...]] as the phonemes themselves
        engine = PiperEngine(find_preset("joe", load_config(site)))
        assert "".join(engine.voice.phonemize("[[sɪnwˈɑːɹ]]")[0]).strip() == "sɪnwˈɑːɹ"
    if voice == "heart":  # hibari is given them as an inline link, in its context
        engine = HibariEngine(find_preset("heart", load_config(site)))
        assert engine.phonemize("Yahya [[sɪnwˈɑɹ]] spoke.").split()[1] == "sɪnwˈɑɹ"


def test_say_command(site: Path, tmp_path: Path) -> None:
    done = run_listen("say", "Yahya Sinwar met the IDF on Oct. 7.", "--voice", "espeak-en-us",
                      "--config", site, "--out", tmp_path / "a.wav")  # fmt: skip
    assert "spoken: Yahya [[sInw'A@]] met the I D F on October seventh." in done.stdout
    assert (tmp_path / "a.wav").stat().st_size > 10_000


def test_a_lexicon_fix_rerenders_only_the_sentences_it_touches(site: Path, tmp_path: Path) -> None:
    env = {"LISTEN_CACHE_DIR": str(tmp_path / "cache")}
    plain = tmp_path / "plain.toml"
    plain.write_text(site.read_text().replace('lexicon = "lexicon.toml"', ""), encoding="utf-8")
    out = tmp_path / "public"
    run_listen("render", SEED, "--out", out, "--config", plain, "--voice", "espeak-en-us",
               env=env)  # fmt: skip
    fixed = run_listen("render", SEED, "--out", out, "--config", site, "--voice",
                       "espeak-en-us", env=env).stdout  # fmt: skip
    changed = int(re.search(r"\((\d+) takes? synthesized", fixed).group(1))
    before = set(script_page(SEED, load_config(plain), "espeak-en-us").units)
    after = set(script_page(SEED, load_config(site), "espeak-en-us").units)
    assert changed == len(after - before) > 0
