"""Site rules (`[extract]` in listen.toml) and how many heading levels start chapters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run_listen

from listen.config import ExtractRules
from listen.errors import ListenError
from listen.extract import build_sections, extract, extract_file
from listen.script import build_script

PAGES = Path(__file__).resolve().parent / "pages"
RULES_PAGE = PAGES / "site-rules.html"
TIDEWATER = ExtractRules(
    body=(".tt-missing", ".tt-text"),
    drop=(".tt-factbox",),
    headline=(".tt-headline",),
)


def chapter_titles(page: Path, rules: ExtractRules | None = None) -> list[str]:
    return [c.title for c in build_script(extract_file(page, rules)).chapters]


def all_text(page: Path, rules: ExtractRules | None = None) -> str:
    script = build_script(extract_file(page, rules))
    return "\n\n".join(p for c in script.chapters for p in c.paragraphs)


def test_without_rules_a_template_can_fool_the_automatic_extractor() -> None:
    # The site's logo is its <h1> and the headline an <h2>: the headline is still found (the
    # metadata agrees with the <h2>, and the logo is the site's name). But a series box sits in
    # the article wrapper, and automatic extraction reads it.
    article = extract_file(RULES_PAGE)
    assert article.title == "Ferry fares frozen for a second year"
    assert "About this series" in all_text(RULES_PAGE)


def test_site_rules_pin_headline_and_body_and_drop_elements() -> None:
    article = extract_file(RULES_PAGE, TIDEWATER)
    assert article.title == "Ferry fares frozen for a second year"
    assert chapter_titles(RULES_PAGE, TIDEWATER) == [
        "Ferry fares frozen for a second year",
        "Why the freeze",
        "What it costs",
    ]
    text = all_text(RULES_PAGE, TIDEWATER)
    assert "A return crossing for a car and driver will remain $38.50" in text
    assert "The freeze will cost the province about $6 million" in text
    for gone in ("Ferry facts", "14 vessels", "About this series", "Island Life", "Tidewater"):
        assert gone not in text
    # The dek sits outside the pinned body: not read.
    assert "hold fares at 2023 levels until next April" not in text


def test_first_matching_body_selector_wins() -> None:
    rules = ExtractRules(body=(".tt-text", ".tt-main"), headline=(".tt-headline",))
    assert "About this series" not in all_text(RULES_PAGE, rules)
    rules = ExtractRules(body=(".tt-main", ".tt-text"), headline=(".tt-headline",))
    assert "About this series" in all_text(RULES_PAGE, rules)


def test_rules_that_match_nothing_fall_back_to_automatic_extraction() -> None:
    rules = ExtractRules(body=(".story-body",), drop=(".nothing",), headline=("h1.headline",))
    page = PAGES / "wordpress-elementor.html"
    assert chapter_titles(page, rules) == chapter_titles(page)
    assert all_text(page, rules) == all_text(page)


def test_drop_rules_apply_inside_a_pinned_body_and_automatic_chrome_rules_still_run() -> None:
    page = PAGES / "wordpress-elementor.html"
    rules = ExtractRules(
        body=(".elementor-widget-theme-post-content",),
        drop=("figure.wp-block-table", "blockquote.wp-block-quote"),
    )
    text = all_text(page, rules)
    assert "The salt marsh is moving inland" in text
    assert "Habitat:" not in text
    assert "Every metre the marsh gains" not in text
    for chrome in ("Advertisement", "Share this", "Get the Harrow Bay Brief"):
        assert chrome not in text


def test_a_pinned_body_is_kept_even_when_its_class_looks_like_chrome() -> None:
    paragraph = "<p>" + "The harbour board met on Tuesday and agreed the new mooring fees. " * 4
    page = f"""<html><head><title>Mooring fees</title></head><body>
    <div class="post share-enabled">{paragraph}</p>{paragraph}</p></div>
    <div class="sidebar"><p>{"Other news from around the county, in brief. " * 10}</p></div>
    </body></html>"""
    rules = ExtractRules(body=(".share-enabled",))
    article = extract(page, rules=rules)
    text = " ".join(b.text for s in article.sections for b in s.blocks)
    assert "harbour board met on Tuesday" in text
    assert "Other news" not in text


def test_an_invalid_selector_is_a_clear_error() -> None:
    with pytest.raises(ListenError, match=r"\[extract\] invalid CSS selector '\.tt\['"):
        extract_file(RULES_PAGE, ExtractRules(body=(".tt[",)))


# --- chapter depth ---------------------------------------------------------------------------


def test_chapter_depth_1_keeps_h3_inside_its_h2_chapter() -> None:
    assert chapter_titles(PAGES / "wiki.html") == ["Skarvholmen Lighthouse", "History", "Design"]


def test_chapter_depth_2_makes_h3_chapters_too() -> None:
    rules = ExtractRules(chapter_depth=2)
    assert chapter_titles(PAGES / "wiki.html", rules) == [
        "Skarvholmen Lighthouse",
        "History",
        "Construction",
        "Automation",
        "Design",
    ]
    assert chapter_titles(PAGES / "wordpress-elementor.html", rules) == [
        "Why Harrow Bay’s Salt Marsh Is Walking Inland",
        "Why the marsh is moving",
        "What the survey found",
        "Salt meadow",
        "Brackish reeds",
        "What happens next",
    ]
    script = build_script(extract_file(PAGES / "wordpress-elementor.html", rules))
    meadow = next(c for c in script.chapters if c.title == "Salt meadow")
    assert meadow.paragraphs[0] == "Salt meadow."  # announced once, as the chapter title
    assert "Redshank now nest there" in meadow.paragraphs[1]
    assert len(meadow.paragraphs) == 2


def test_chapter_depth_counts_the_levels_present_not_tag_names() -> None:
    # Medium's body headings are <h1> and <h2>: depth 2 makes both chapters.
    assert chapter_titles(PAGES / "medium.html", ExtractRules(chapter_depth=2)) == [
        "What Twelve Years of Night Shifts Taught Me About Sleep",
        "Darkness is a tool",
        "The blinds I actually use",
        "Caffeine has a deadline",
    ]


def test_a_heading_with_no_text_of_its_own_does_not_become_an_empty_chapter() -> None:
    blocks = [
        (0, "paragraph", "Lead paragraph."),
        (2, "heading", "History"),
        (3, "heading", "Early years"),
        (0, "paragraph", "They built it."),
        (3, "heading", "Later years"),
        (0, "paragraph", "They automated it."),
    ]
    sections = build_sections(blocks, "Title", chapter_depth=2)
    assert [s.heading for s in sections] == [None, "History", "Later years"]
    assert [b.text for b in sections[1].blocks] == ["Early years", "They built it."]
    assert sections[1].blocks[0].kind == "subheading"
    depth_one = build_sections(blocks, "Title", chapter_depth=1)
    assert [s.heading for s in depth_one] == [None, "History"]


# --- through the CLI, with the rules in listen.toml ------------------------------------------


def write_config(tmp_path: Path, extract_table: str) -> Path:
    config = tmp_path / "listen.toml"
    config.write_text(f'[show]\ntitle = "Test"\n\n[extract]\n{extract_table}\n', encoding="utf-8")
    return config


def test_cli_reads_the_site_rules_from_the_config(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        'body = [".tt-missing", ".tt-text"]\ndrop = ".tt-factbox"\nheadline = [".tt-headline"]',
    )
    done = run_listen("extract", RULES_PAGE, "--config", config, "--format", "json")
    data = json.loads(done.stdout)
    assert data["title"] == "Ferry fares frozen for a second year"
    assert [c["title"] for c in data["chapters"]] == [
        "Ferry fares frozen for a second year",
        "Why the freeze",
        "What it costs",
    ]
    assert "Ferry facts" not in done.stdout and "About this series" not in done.stdout


def test_cli_chapter_depth_from_the_config(tmp_path: Path) -> None:
    config = write_config(tmp_path, "chapter_depth = 2")
    done = run_listen("extract", PAGES / "wiki.html", "--config", config, "--format", "text")
    assert "[Chapter 3] Construction" in done.stdout
    assert "[Chapter 5] Design" in done.stdout
