"""`listen extract` output: the script as JSON (interface.md), plain text or Markdown."""

from __future__ import annotations

from collections.abc import Sequence

from listen.config import SectionFeed
from listen.script import Script


def quote_voices(script: Script) -> list[str]:
    """The voices other than the narrator's that read some sentences (the quotation voice)."""
    return sorted({s.voice for s in script.sentences if s.voice and s.voice != script.voice})


def listing_feeds(script: Script, feeds: Sequence[SectionFeed]) -> list[str]:
    """The feeds that will list the article: feed.xml, and each `[[feeds]]` that selects it."""
    a = script.article
    return ["feed.xml"] + [
        f"feeds/{f.name}.xml" for f in feeds if f.lists(a.categories, a.tags, a.authors)
    ]


def facts(script: Script, feeds: Sequence[SectionFeed]) -> list[tuple[str, str]]:
    article = script.article
    pairs = (
        ("By", article.byline),
        ("Published", article.published),
        ("Language", article.language),
        ("URL", article.url),
        ("Section", ", ".join(article.categories)),
        ("Tags", ", ".join(article.tags)),
        ("Picture", article.image),
        ("Voice", script.voice),
        ("Quotations", ", ".join(quote_voices(script))),
        ("Feeds", ", ".join(listing_feeds(script, feeds))),
    )
    return [(label, value) for label, value in pairs if value]


def script_as_json(script: Script, feeds: Sequence[SectionFeed] = ()) -> dict:
    article = script.article
    return {
        "title": article.title,
        "byline": article.byline,
        "published": article.published,
        "language": article.language,
        "url": article.url,
        "sections": list(article.categories),
        "tags": list(article.tags),
        "authors": list(article.authors),
        "image": article.image,
        "feeds": listing_feeds(script, feeds),
        "voice": script.voice,
        "quote_voice": next(iter(quote_voices(script)), None),
        "chapters": [
            {
                "title": chapter.title,
                "text": "\n\n".join(chapter.paragraphs),
                "spoken": " ".join(s.spoken for s in chapter.sentences),
                # (its art: the first that can be read; see listen.art)
                **({"images": list(chapter.images)} if chapter.images else {}),
            }
            for chapter in script.chapters
        ],
    }


def script_as_text(script: Script, feeds: Sequence[SectionFeed] = ()) -> str:
    article = script.article
    lines = [article.title, "=" * min(len(article.title), 80)]
    lines += [f"{label}: {value}" for label, value in facts(script, feeds)]
    for number, chapter in enumerate(script.chapters, start=1):
        lines += ["", f"[Chapter {number}] {chapter.title}", ""]
        lines += [f"Picture: {chapter.images[0]}\n"] if chapter.images else []
        lines += [p + "\n" for p in chapter.paragraphs]
    return "\n".join(lines).rstrip() + "\n"


def script_as_markdown(script: Script, snippet: str | None = None,
                       feeds: Sequence[SectionFeed] = ()) -> str:  # fmt: skip
    article = script.article
    lines = [f"# {article.title}", ""]
    shown = [f"**{label}:** {value}" for label, value in facts(script, feeds)]
    if shown:
        lines += ["  \n".join(shown), ""]
    for number, chapter in enumerate(script.chapters, start=1):
        lines += [f"## {number}. {chapter.title}", ""]
        for paragraph in chapter.paragraphs:
            lines += [paragraph, ""]
    if snippet:  # the player for the article page, once rendered (listen.player)
        lines += ["---", "", "Player snippet for the article page:", ""]
        lines += ["```html", snippet, "```", ""]
    return "\n".join(lines)
