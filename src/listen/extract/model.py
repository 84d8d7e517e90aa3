"""The data extraction hands to the script stage."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Block:
    """One unit of running text: a paragraph, a list item, a quotation, a subheading."""

    text: str
    kind: str = "paragraph"


#: Pictures kept per section: the first is the chapter's art, the others stand in if it
#: cannot be read.
MAX_SECTION_PICTURES = 3


@dataclass(frozen=True)
class Section:
    """A heading and the blocks under it. The lead section has no heading."""

    heading: str | None
    blocks: tuple[Block, ...]
    level: int = 2
    #: The section's own pictures (at most `MAX_SECTION_PICTURES`), in page order: its
    #: chapter's art is the first that can be read (http(s) addresses, or paths relative to a
    #: local page's folder; see extract.pictures).
    images: tuple[str, ...] = ()


@dataclass(frozen=True)
class Article:
    title: str
    sections: tuple[Section, ...]
    byline: str | None = None
    published: str | None = None
    language: str = "en"
    url: str | None = None
    summary: str | None = None
    site_name: str | None = None
    #: The article's sections or categories, tags or keywords, and authors, as its metadata
    #: names them (what `[[feeds]]` filters on).
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    #: The lead picture's address (og:image, JSON-LD image, else the first figure's), resolved
    #: against the page's URL; a relative path when the page is a local file with no URL.
    image: str | None = None
