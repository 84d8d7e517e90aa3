"""Extraction: what `listen extract` says will be narrated, for each sample shape."""

from __future__ import annotations

import json

import pytest
from helpers import CONFIG, SAMPLES, SEED, SEED_CHROME, run_listen

from listen.errors import ListenError
from listen.extract import extract


def extract_json(page, *extra: str) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(run_listen("extract", page, "--config", CONFIG, *extra).stdout)


def all_text(data: dict) -> str:
    return "\n".join(c["text"] for c in data["chapters"])


def test_seed_has_three_chapters_lead_then_sections() -> None:
    data = extract_json(SEED)
    assert data["title"] == (
        "IDF Seizures and Al-Qassam Counterattacks: Ceasefire Talks Stalemate, "
        "Global Reactions Shift"
    )
    assert [c["title"] for c in data["chapters"]] == [
        data["title"],
        "IDF Seizure of Hamas Facilities and Al-Qassam Brigades’ Counterattacks.",
        "Ceasefire Stalemate: Hamas’s Demands Clash with Israel’s Security Objectives.",
    ]
    lead = data["chapters"][0]
    assert lead["text"].startswith(data["title"])  # the title is announced
    assert data["byline"] == "Daniel Sharon"
    assert data["published"] == "2024-02-15T09:30:00+00:00"
    assert data["language"] == "en-US"
    assert data["url"] == (
        "https://www.example-news.org/idf-seizures-al-qassam-counterattacks-ceasefire-talks-stalemate/"
    )


def test_seed_reads_every_paragraph_and_no_chrome() -> None:
    data = extract_json(SEED)
    text = all_text(data)
    source = (SAMPLES.parent / "samples" / "seed-article.html").read_text(encoding="utf-8")
    assert "Table of Contents" in source  # the chrome is really on the page
    for chrome in SEED_CHROME:
        assert chrome.lower() not in text.lower()
    section_one, section_two = data["chapters"][1]["text"], data["chapters"][2]["text"]
    assert section_one.count("\n\n") == 3  # heading + 3 paragraphs
    assert section_two.count("\n\n") == 4  # heading + 4 paragraphs
    assert "Muhammad Sinwar, a high-ranking official within Hamas" in section_one
    assert "Instead, Moscow has pivoted towards Tehran" in section_two


def test_spoken_text_is_normalized() -> None:
    spoken = extract_json(SEED)["chapters"][2]["spoken"]
    assert "seventeen point six billion dollars" in spoken
    assert "$" not in spoken


def test_blog_post_with_subheadings_and_lists() -> None:
    data = extract_json(SAMPLES / "blog-post.html")
    titles = [c["title"] for c in data["chapters"]]
    assert titles == [
        "How We Cut Our Bakery’s Energy Bill in Half",
        "Where the energy was going",
        "What we changed",
        "How to run your own audit",
    ]
    text = all_text(data)
    # H3 subsections stay inside their H2 chapter, announced as subheadings.
    assert "Rescheduling the deck oven." in data["chapters"][2]["text"]
    assert "Putting waste heat to work." in data["chapters"][2]["text"]
    # List items are read, one per paragraph.
    assert "Borrow or rent a clamp meter" in data["chapters"][3]["text"]
    # The intro before the first heading belongs to the lead chapter.
    assert "When our electricity bill for January 2023" in data["chapters"][0]["text"]
    for chrome in ("Share this post", "Subscribe to our newsletter", "Related posts"):
        assert chrome.lower() not in text.lower()
    assert data["byline"] == "Marta Okonkwo"


def test_opinion_column_is_one_chapter() -> None:
    data = extract_json(SAMPLES / "opinion-column.html")
    assert len(data["chapters"]) == 1
    assert data["language"] == "en-GB"
    text = all_text(data)
    assert "Every few months a minister visits a struggling market town" in text
    assert "A place does not have to sell things to be alive." in text
    for chrome in ("We use cookies", "Advertisement", "Most read", "Comments (12)", "Accept"):
        assert chrome.lower() not in text.lower()


def test_text_and_markdown_formats() -> None:
    text = run_listen("extract", SEED, "--format", "text").stdout
    assert "[Chapter 3] Ceasefire Stalemate" in text
    markdown = run_listen("extract", SEED, "--format", "markdown").stdout
    assert markdown.startswith("# IDF Seizures")
    assert "## 2. IDF Seizure of Hamas Facilities" in markdown


def test_page_without_article_is_refused() -> None:
    shell = b"""<html><head><title>Page not found</title></head><body>
    <nav><a href="/">Home</a><a href="/news">News</a></nav>
    <h1>Page not found</h1><p>Sorry.</p><footer>(c) Example</footer></body></html>"""
    with pytest.raises(ListenError, match="no article"):
        extract(shell)


def test_charset_from_meta_tag() -> None:
    body = "<p>" + "Café owners in Zürich said naïve rules cost them dearly. " * 6 + "</p>"
    page = (
        '<html><head><meta charset="windows-1252"><title>T</title></head><body><article>'
        f"<h1>Crème brûlée</h1>{body}</article></body></html>"
    ).encode("cp1252")
    article = extract(page)
    assert article.title == "Crème brûlée"
    assert "Zürich" in article.sections[0].blocks[0].text


def test_hidden_and_script_content_is_never_read() -> None:
    para = "<p>" + "The council met on Tuesday to discuss the budget for next year. " * 4 + "</p>"
    page = f"""<html><head><title>Budget</title></head><body><article><h1>Budget</h1>
    {para}<p style="display:none">Hidden teaser text that must not be read aloud.</p>
    <div aria-hidden="true">Decorative text.</div><script>var x = "script text";</script>
    <p>Advertisement</p>{para}</article></body></html>"""
    article = extract(page)
    text = " ".join(b.text for s in article.sections for b in s.blocks)
    for bad in ("Hidden teaser", "Decorative", "script text", "Advertisement"):
        assert bad not in text
