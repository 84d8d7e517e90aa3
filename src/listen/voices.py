"""The system voices pyttsx3 reports (espeak-ng on Linux, SAPI5 on Windows, macOS voices)."""

from __future__ import annotations


def system_voices() -> list[tuple[str, str, list[str]]]:
    """(id, name, languages) for every voice the platform's pyttsx3 driver lists."""
    try:
        import pyttsx3

        engine = pyttsx3.init()
        voices = engine.getProperty("voices") or []
    except Exception:  # no driver, no espeak-ng library: there are simply no system voices
        return []
    result = []
    for voice in voices:
        languages = [
            lang.decode(errors="replace") if isinstance(lang, bytes) else str(lang)
            for lang in (voice.languages or [])
        ]
        result.append((str(voice.id), str(voice.name or ""), languages))
    return result
