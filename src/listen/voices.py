"""Which voice reads a page: presets, the site's language map, and the system voices.

A page is read by a voice of its own language, never by one of another:
1. the voice asked for (`--voice`, the API's `voice=`), for every page, whatever its language;
2. else `[voices] by_language` (the page's full tag, "pt-BR", then its language, "pt");
3. else the default voice (`[render] voice`) if it speaks the page's language;
4. else a preset that does (neural engines first);
5. else the system voice for that language (espeak-ng speaks over a hundred);
6. else a clear error, rather than a voice of another language.

System voices are usable by name without a preset file: `system:fr`, or any id or name
`listen voices` lists (`gmw/de`, `German`).
"""

from __future__ import annotations

from listen.config import DEFAULT_VOICE, SiteConfig, VoicePreset, find_preset, load_presets
from listen.errors import ListenError
from listen.normalize import primary_language

SYSTEM_PREFIX = "system:"


def system_voices() -> list[tuple[str, str, list[str]]]:
    """(id, name, languages) for every voice the platform's pyttsx3 driver lists."""
    try:
        from listen.engines.pyttsx3 import system_voice_list

        voices = system_voice_list()
    except Exception:  # no driver, no espeak-ng library: there are simply no system voices
        return []
    return [(v.id, v.name, list(v.languages)) for v in voices]


def speaks(preset: VoicePreset, language: str) -> bool:
    """Whether the preset's voice speaks `language` (the primary subtags agree: en-US, en-GB)."""
    return primary_language(preset.language) == primary_language(language)


def _as_preset(voice_id: str, name: str, languages: list[str]) -> VoicePreset:
    short = voice_id.rsplit("/", 1)[-1]
    return VoicePreset(name=f"{SYSTEM_PREFIX}{short}", engine="pyttsx3", voice=voice_id,
                       language=languages[0] if languages else short,
                       description=f"System voice: {name}")  # fmt: skip


def system_preset(name: str) -> VoicePreset | None:
    """The system voice `name` stands for: `system:` and a language ("system:fr") or any id
    or name `listen voices` lists, with or without the prefix; None if there is none."""
    prefixed = name.startswith(SYSTEM_PREFIX)
    wanted = name.removeprefix(SYSTEM_PREFIX).strip().lower().replace("_", "-")
    if not wanted:
        return None
    voices = system_voices()
    for voice_id, voice_name, languages in voices:
        if wanted in (voice_id.lower(), voice_id.rsplit("/", 1)[-1].lower(), voice_name.lower()):
            return _as_preset(voice_id, voice_name, languages)
    if prefixed:  # "system:fr-ca" when there is no such voice: that language's best one
        return system_voice_for(wanted)
    return None


def system_voice_for(language: str) -> VoicePreset | None:
    """The system voice for a language: one for the exact tag ("fr-BE"), else the one named
    after the language ("roa/fr", the standard variety), else any that speaks it."""
    tag, primary = language.lower().replace("_", "-"), primary_language(language)
    voices = system_voices()
    ranked = (
        [v for v in voices if tag in (lang.lower() for lang in v[2])],
        [v for v in voices if v[0].rsplit("/", 1)[-1].lower() in (tag, primary)],
        [v for v in voices if any(primary_language(lang) == primary for lang in v[2])],
    )
    for candidates in ranked:
        if candidates:
            return _as_preset(*candidates[0])
    return None


def choose_voice(language: str, config: SiteConfig, voice: str | None = None) -> VoicePreset:
    """The voice that reads a page in `language` (see the module's docstring for the order)."""
    if voice:
        return find_preset(voice, config)
    mapping = dict(config.voice_by_language)
    for key in (language.lower(), primary_language(language)):
        if key in mapping:
            return find_preset(mapping[key], config)
    default = find_preset(config.render.voice or DEFAULT_VOICE, config)
    if speaks(default, language):
        return default
    presets = sorted(load_presets(config).values(),
                     key=lambda p: (p.engine == "pyttsx3", p.name))  # fmt: skip
    for preset in presets:
        if speaks(preset, language):
            return preset
    if (system := system_voice_for(language)) is not None:
        return system
    raise ListenError(
        f"no voice speaks the page's language {language!r}: add a preset for it, or name "
        f"one in [voices] by_language"
    )


def quote_voice_for(language: str, config: SiteConfig, narrator: VoicePreset
                    ) -> VoicePreset | None:  # fmt: skip
    """`[speech] quote_voice` for a page in `language`, when it is another voice than the
    narrator's and speaks that language (else the narrator reads the quotations too)."""
    if not config.speech.quote_voice:
        return None
    quote = find_preset(config.speech.quote_voice, config)
    if quote.name == narrator.name or not speaks(quote, language):
        return None
    return quote
