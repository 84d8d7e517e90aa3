"""`listen extract` output: the script as JSON (interface.md), plain text or Markdown."""

from __future__ import annotations

from listen.script import Script


def quote_voices(script: Script) -> list[str]:
    """The voices other than the narrator's that read some sentences (the quotation voice)."""
    return sorted({s.voice for s in script.sentences if s.voice and s.voice != script.voice})


def script_as_json(script: Script) -> dict:
    article = script.article
    return {
        "title": article.title,
        "byline": article.byline,
        "published": article.published,
        "language": article.language,
        "url": article.url,
        "voice": script.voice,
        "quote_voice": next(iter(quote_voices(script)), None),
        "chapters": [
            {
                "title": chapter.title,
                "text": "\n\n".join(chapter.paragraphs),
                "spoken": " ".join(s.spoken for s in chapter.sentences),
            }
            for chapter in script.chapters
        ],
    }


def script_as_text(script: Script) -> str:
    article = script.article
    lines = [article.title, "=" * min(len(article.title), 80)]
    for label, value in (
        ("By", article.byline),
        ("Published", article.published),
        ("Language", article.language),
        ("URL", article.url),
        ("Voice", script.voice),
        ("Quotations", ", ".join(quote_voices(script))),
    ):
        if value:
            lines.append(f"{label}: {value}")
    for number, chapter in enumerate(script.chapters, start=1):
        lines += ["", f"[Chapter {number}] {chapter.title}", ""]
        lines += [p + "\n" for p in chapter.paragraphs]
    return "\n".join(lines).rstrip() + "\n"


def script_as_markdown(script: Script, snippet: str | None = None) -> str:
    article = script.article
    lines = [f"# {article.title}", ""]
    facts = [
        f"**{label}:** {value}"
        for label, value in (
            ("By", article.byline),
            ("Published", article.published),
            ("Language", article.language),
            ("URL", article.url),
            ("Voice", script.voice),
            ("Quotations", ", ".join(quote_voices(script))),
        )
        if value
    ]
    if facts:
        lines += ["  \n".join(facts), ""]
    for number, chapter in enumerate(script.chapters, start=1):
        lines += [f"## {number}. {chapter.title}", ""]
        for paragraph in chapter.paragraphs:
            lines += [paragraph, ""]
    if snippet:  # the player for the article page, once rendered (listen.player)
        lines += ["---", "", "Player snippet for the article page:", ""]
        lines += ["```html", snippet, "```", ""]
    return "\n".join(lines)
