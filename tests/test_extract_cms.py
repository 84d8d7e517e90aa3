"""Extraction on CMS-shaped pages written for the kinds of failure seen on unseen sites
(tests/pages/cms/): what is read, what is never read, the chapters and the headline.

Each page is our own, shaped like the templates the failures were seen on (Brightspot-style
related-story cards, a radio station's promotions, Medium's labels, a live blog's pinned
summary and badges, a photo blog's captions, a metadata title that is not the page's headline,
a broken page whose only <h1> is the site's name, a browser notice). None is a copy of a page
of the benchmark sets.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from listen.extract import Article, extract_file
from listen.script import build_script

CMS = Path(__file__).resolve().parent / "pages" / "cms"


def article_of(name: str) -> Article:
    return extract_file(CMS / name)


def chapters(article: Article) -> list[str]:
    return [chapter.title for chapter in build_script(article).chapters]


def spoken_text(article: Article) -> str:
    script = build_script(article)
    return "\n".join(p for chapter in script.chapters for p in chapter.paragraphs)


def assert_reads(text: str, *sentences: str) -> None:
    for sentence in sentences:
        assert sentence in text, f"not read: {sentence!r}"


def assert_never_reads(text: str, *fragments: str) -> None:
    for fragment in fragments:
        assert fragment.lower() not in text.lower(), f"read aloud: {fragment!r}"


def test_related_story_cards_and_topics_are_not_read_and_the_article_is_not_cut_short() -> None:
    article = article_of("related-cards.html")
    assert article.title == "Harbor pilots win raise after two-year dispute"
    assert chapters(article) == [
        "Harbor pilots win raise after two-year dispute",
        "What the ruling changes",
    ]
    text = spoken_text(article)
    assert_reads(
        text,
        # the standfirst opens the lead chapter
        "An arbitrator sided with the pilots on pay but not on staffing.",
        "ending a dispute that had twice brought the harbor close to a strike.",
        # after the first inline card, and after the second: the article goes on
        "We are relieved that the arbitrator recognized",
        "The arbitrator also ordered a joint study of night arrivals",
        "members were still reviewing the decision.",
    )
    assert_never_reads(
        text,
        "Port traffic hits a record",  # an inline card: its title (and its image's label)...
        "Volumes rose for the fourth month",  # ...and its teaser
        "Pilots vote to authorize a strike",  # a "Related" box
        "Topics",
        "Port of Bayport</a>",
        "More from Business",
        "Grocery chain closes",
        "Subscribe for $1",
    )
    assert text.count("Harbor pilots win raise after two-year dispute") == 1


def test_promotions_between_paragraphs_are_not_read() -> None:
    text = spoken_text(article_of("radio-promos.html"))
    assert_reads(
        text,
        "will be closed for six weeks from Monday while its gates are repaired",
        "Engineers found corrosion on two of its four gates",
        "The agency expects to reopen the barrier by the end of June.",
    )
    assert_never_reads(
        text,
        "Follow us on Facebook",
        "Listen live",
        "Get the Riverside FM app",
        "Have a story?",
        "On air now",
        "Most read",
        "Share this story",
    )


def test_citation_markers_are_not_spoken_but_an_enumeration_is() -> None:
    article = article_of("science-citations.html")
    assert chapters(article) == [
        "Why do cats purr? What the research says",
        "A signal, or a self-repair kit?",
    ]
    text = spoken_text(article)
    assert_reads(
        text,
        "when they are hurt, frightened or giving birth.",
        "as the cat breathes in and out. That is why",
        "help bones and tissue heal, though the evidence",
        "(1) owners could tell the two purrs apart, and (2) people without cats could too.",
        "serves several purposes at once.",
    )
    assert_never_reads(text, "(2, 3)", "(5–7)", "(9, 10)", "References", "Eklund R")


def test_medium_labels_and_author_block_are_not_read_and_the_subtitle_leads() -> None:
    article = article_of("medium-story.html")
    assert article.title == "What I learned running a two-person newsroom for a year"
    # the subtitle is the lead's first paragraph, never a chapter of its own
    assert chapters(article) == [
        "What I learned running a two-person newsroom for a year",
        "Follow-ups are the job",
    ]
    lead = build_script(article).chapters[0].paragraphs
    assert lead[1] == (
        "Fewer stories, more follow-ups, and why we stopped covering press conferences"
    )
    text = spoken_text(article)
    assert_reads(text, "We began keeping a list of every story", "first rise since 2009.")
    assert_never_reads(
        text,
        "Member-only story",
        "Published in",
        "The Local Desk",
        "6 min read",
        "1.2K",
        "Written by Sam Ortega",
        "412 Followers",
        "Responses",
    )
    assert not [p for p in build_script(article).chapters[0].paragraphs if p.startswith("Follow")]


def test_a_live_blogs_pinned_summary_is_read_first_and_its_badges_are_not() -> None:
    article = article_of("live-pinned.html")
    assert chapters(article) == [
        "Heatwave live: hottest day of the year as temperatures reach 34C",
        "Speed limits on the East Coast line",
        "Beaches busy at Whitby and Scarborough",
        "Hottest day of the year confirmed",
        "Welcome to our live coverage",
    ]
    lead = build_script(article).chapters[0].paragraphs
    assert "Temperatures reached 34.1C at Leeming, the highest reading of the year so far." in lead
    assert "An amber health alert is in force until 9am on Sunday." in lead
    text = spoken_text(article)
    assert_never_reads(text, "Key event", "Show key events only", "Share")


def test_posts_written_in_caption_blocks_are_read() -> None:
    article = article_of("caption-posts.html")
    assert article.title == "A week on the Hebridean Way by bike"
    text = spoken_text(article)
    assert_reads(
        text,
        "We started on Vatersay, the southern end of the route",
        "Barra is small enough to cycle round before lunch.",
        "We counted more otters than cars",
        "decided we had earned a rest day.",
    )
    assert_never_reads(text, "Leave a comment", "Archives", "June 2024", "a cycling diary")


def test_the_headline_is_the_one_the_page_shows_and_it_is_heard_once() -> None:
    article = article_of("headline-mismatch.html")
    # JSON-LD and og:title say something else; the page shows this, twice
    assert article.title == "Kenmore approves new cycle lanes after six-hour council meeting"
    assert chapters(article) == [
        "Kenmore approves new cycle lanes after six-hour council meeting",
        "What residents said",
    ]
    text = spoken_text(article)
    assert text.count("Kenmore approves new cycle lanes") == 1
    assert_reads(text, "Kenmore council voted seven to four on Thursday night")
    assert_never_reads(text, "Kenmore council cycle lanes vote", "Westside Times")


def test_a_wiki_page_is_titled_with_its_heading_not_its_short_description() -> None:
    article = article_of("wiki-shortdesc.html")
    assert article.title == "Marrow Point Light"
    text = spoken_text(article)
    assert_reads(text, "is a lighthouse on a granite headland 60 miles north of Bayport.")
    assert_never_reads(text, "lighthouse on the Pacific coast", "From Shorepedia", "[edit]")


def test_a_broken_page_is_not_titled_with_the_sites_name() -> None:
    article = article_of("broken-sitename.html")
    assert article.title == "Library extends its opening hours from June"
    text = spoken_text(article)
    assert_reads(text, "Greenhaven library will open until eight in the evening")
    assert_never_reads(text, "serving the town since 1952")
    assert text.count("Library extends its opening hours from June") == 1


def test_a_short_post_without_a_title_element_is_an_article() -> None:
    article = article_of("no-title-short.html")
    assert article.title == "Road closed on Saturday"
    assert spoken_text(article) == (
        "Road closed on Saturday.\n"
        "Station Road will be closed between 8am and 2pm on Saturday for resurfacing."
    )


def test_a_browser_notice_is_never_taken_for_the_article() -> None:
    article = article_of("browser-notice.html")
    text = spoken_text(article)
    assert_reads(text, "Easton's public pool reopened on Monday", "The first session on Saturday")
    assert_never_reads(text, "browser", "JavaScript")


def test_a_jobs_widget_and_navigation_beside_the_article_are_not_read() -> None:
    text = spoken_text(article_of("wide-body.html"))
    assert_reads(text, "have voted by 71% to accept a two-year pay deal", "cared about most.")
    assert_never_reads(text, "Latest jobs", "Community midwife", "band 6", "Events", "About us")


@pytest.mark.parametrize("page", sorted(p.name for p in CMS.glob("*.html")))
def test_every_cms_page_has_one_headline_and_no_chapter_repeating_it(page: str) -> None:
    article = article_of(page)
    titles = chapters(article)
    assert titles[0] == article.title
    assert article.title not in titles[1:]
    lead = build_script(article).chapters[0].paragraphs
    said = [p for p in lead if p.rstrip(".") == article.title.rstrip(".")]
    assert len(said) == 1  # announced once, not read again as a line of the article
