"""Extraction on one realistic page per CMS and page type (tests/pages/, written for these tests).

Each test asserts what an editor would check in the dry run: the chapter titles in order, the
sentences that must be read, and the site chrome that must not be.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run_listen

from listen.errors import ListenError
from listen.extract import Article, extract_file
from listen.script import Script, build_script

PAGES = Path(__file__).resolve().parent / "pages"


def script_of(name: str) -> Script:
    return build_script(extract_file(PAGES / name))


def titles(script: Script) -> list[str]:
    return [chapter.title for chapter in script.chapters]


def spoken(script: Script) -> str:
    """Everything that will be read, chapter announcements included, paragraphs separated by a
    blank line (as in `listen extract --format json`)."""
    return "\n\n".join(p for chapter in script.chapters for p in chapter.paragraphs)


def chapter_text(script: Script, title: str) -> str:
    return "\n\n".join(next(c for c in script.chapters if c.title == title).paragraphs)


def assert_reads(text: str, *sentences: str) -> None:
    for sentence in sentences:
        assert sentence in text, f"not read: {sentence!r}"


def assert_never_reads(text: str, *chrome: str) -> None:
    for piece in chrome:
        assert piece.lower() not in text.lower(), f"chrome read aloud: {piece!r}"


def assert_no_paragraph(script: Script, *chrome: str) -> None:
    """Short chrome ("Share", a tag) that could also be a word of the article: no paragraph is
    just that."""
    paragraphs = {p.rstrip(".").lower() for c in script.chapters for p in c.paragraphs}
    for piece in chrome:
        assert piece.lower() not in paragraphs, f"chrome read aloud: {piece!r}"


def test_wordpress_elementor() -> None:
    script = script_of("wordpress-elementor.html")
    article: Article = script.article
    assert titles(script) == [
        "Why Harrow Bay’s Salt Marsh Is Walking Inland",
        "Why the marsh is moving",
        "What the survey found",
        "What happens next",
    ]
    assert (article.byline, article.language) == ("Priya Castellanos", "en-GB")
    assert article.published == "2024-04-09T07:00:00+01:00"
    text = spoken(script)
    assert_reads(
        text,
        "The salt marsh is moving inland, and the town has to decide whether to let it.",
        "“We stopped fighting the tide and started watching it,” said Dr Tomasz Wren",
        "Every metre the marsh gains is a metre of wave the town does not have to stop.",
        "Whatever the council decides, the trust says the survey will continue.",
    )
    # H3 subsections stay inside their H2 chapter, announced as subheadings.
    survey = chapter_text(script, "What the survey found")
    assert_reads(survey, "Salt meadow.", "Brackish reeds.", "Redshank now nest there")
    # A data table is read row by row as "Header: value" sentences.
    assert_reads(survey, "Habitat: Salt meadow, 2014: 12 hectares, 2023: 31 hectares.")
    # List items each become a sentence.
    assert_reads(
        chapter_text(script, "What happens next"), "do nothing and review the plan in 2029."
    )
    # The pull-quote repeats the paragraph: read once, not twice.
    assert text.count("We stopped fighting the tide and started watching it") == 1
    assert_never_reads(
        text,
        "We use cookies",
        "Cookie settings",
        "Home",
        "Environment »",
        "Listen to this article",
        "In this article",
        "Advertisement",
        "Photo: Harrow Estuary Trust",
        "Sea lavender in a field at Crane Farm",
        "Source: Harrow Estuary Trust",
        "Share this",
        "Share on Facebook",
        "Get the Harrow Bay Brief",
        "Our free newsletter",
        "Sign up",
        "Priya covers the environment",
        "Harbour dredging to start after Easter",
        "Oyster beds return",
        "Related",
        "thoughts on",
        "My grandfather grazed sheep",
        "Leave a Reply",
        "Your email address will not be published",
        "All rights reserved",
        "Scroll to Top",
    )


def test_ghost() -> None:
    script = script_of("ghost.html")
    assert titles(script) == [
        "The Quiet Economics of the Repair Café",
        "What gets fixed",
        "The money",
        "Questions readers asked",
    ]
    assert script.article.byline == "Marguerite Osei"
    text = spoken(script)
    assert_reads(
        text,
        "By two o’clock most of them work again.",
        "Most repairs take under twenty minutes",
        "The café asks for a voluntary donation of five euros per repair.",  # callout card
        "That is roughly what the parish charges to rent the hall for a decade.",
    )
    # Ghost's toggle card is an FAQ: question, then answer.
    assert_reads(
        chapter_text(script, "Questions readers asked"),
        "Can I bring something that is not electrical?\n\nYes. Bicycles, clothes and furniture",
    )
    assert_never_reads(
        text,
        "Sign in",
        "Subscribe",
        "Featured",
        "6 min read",
        "Photo by Inês Duarte",
        "A kettle thermostat, the single most replaced part",
        "The right to repair, explained",  # bookmark card: a link to another story
        "Sign up for more like this",
        "Bread Lines",
        "Powered by Ghost",
    )


def test_drupal() -> None:
    script = script_of("drupal.html")
    assert titles(script) == [
        "Buses to run every 12 minutes on three busiest routes",
        "What is changing",
        "Night buses",
        "How it is paid for",
    ]
    text = spoken(script)
    assert_reads(
        text,
        "Buses on the city’s three busiest routes will run every 12 minutes",
        "Night buses will also return to the harbour",
        "“Hospital staff and bar workers told us they had no safe way home,” she said.",
        "The extra services cost about £1.4 million a year.",
    )
    changing = chapter_text(script, "What is changing")
    assert_reads(
        changing,
        "Daytime frequency, Monday to Saturday.",  # the table's caption
        "Route: 4, Now: every 20 minutes, From 2 September: every 12 minutes.",
        "Route: 27, Now: every 30 minutes, From 2 September: every 12 minutes.",
        "Sunday services are unchanged.",
    )
    assert_never_reads(
        text,
        "Skip to main content",
        "Main navigation",
        "Breadcrumb",
        "Council tax",
        "Submitted by",
        "press.office",
        "Tags",
        "Transport\n",
        "Log in",
        "to post comments",
        "Comments",
        "The 27 has been unusable",
        "Add new comment",
        "Latest news",
        "Central library to open on Sundays",
        "Accessibility statement",
    )


def test_medium_generated_class_names() -> None:
    script = script_of("medium.html")
    # Medium writes section headings as <h1> in the body: they start chapters; <h2> stays inside.
    assert titles(script) == [
        "What Twelve Years of Night Shifts Taught Me About Sleep",
        "Darkness is a tool",
        "Caffeine has a deadline",
    ]
    text = spoken(script)
    assert_reads(
        text,
        "For twelve years I worked nights on a surgical ward.",
        "Morning light tells your brain the day has started.",
        "The blinds I actually use.",
        "Treat the end of your shift like bedtime, not like the end of the working day.",
        "It took me another two years to act on it.",
    )
    # A wrapper whose generated class list spells "ad" and "nav" is not taken for chrome.
    assert "Cheap stick-on blackout film" in chapter_text(script, "Darkness is a tool")
    assert_never_reads(
        text,
        "Write",
        "Sign up",
        "Sign in",
        "Jonah Whitlock",
        "Follow",
        "7 min read",
        "Feb 11, 2024",
        "1.4K",
        "Listen",
        "Share",
        "A hospital corridor at 4 a.m.",
        "Nursing",
        "Followers",
        "More from",
        "The handover is the most dangerous",
        "Recommended from Medium",
        "Text to speech",
    )
    assert_no_paragraph(script, "Sleep", "Health", "Share", "Listen")


def test_substack_newsletter() -> None:
    script = script_of("substack.html")
    assert titles(script) == [
        "The Pension Fund That Bought a Forest",
        "Trees are a slow bond",
        "The carbon question",
    ]
    text = spoken(script)
    assert_reads(
        text,
        "It paid about 210 million euros for 40,000 hectares of spruce and pine",
        # the footnote marker "1" is gone from the middle of the sentence
        "The fund’s actuaries describe it as a bond that pays in wood, with the useful feature",
        "would be a scandal waiting to happen.",
        "which sell for more than pulpwood.",
    )
    assert_never_reads(
        text,
        "Subscribe",
        "Thanks for reading",
        "Type your email",
        "Leave a comment",
        "Spruce stands near Saarijärvi",
        "Annual report 2023, page 88",  # footnotes
        "voluntary carbon registries",
        "wood1",
        "happen2",
        "Ready for more",
        "Discussion about this post",
        "My family sold a small forest",
        "Start writing",
        "Substack is the home",
        "312",
    )
    assert_no_paragraph(script, "Share", "Subscribe", "48")


def test_wiki_with_infobox_edit_links_and_references() -> None:
    script = script_of("wiki.html")
    assert titles(script) == ["Skarvholmen Lighthouse", "History", "Design"]
    text = spoken(script)
    assert_reads(
        text,
        "is a coastal lighthouse on the islet of Skarvholmen at the mouth of the Vestfjord",
        "It was first lit in 1871 and automated in 1994. The station is listed",
        "wrecked eleven boats on the skerries to the north.",
        "a solar-charged battery bank. The keeper’s house is now let to visitors in summer.",
    )
    history = chapter_text(script, "History")
    assert_reads(history, "Construction.", "Automation.")  # both heading styles, no "[edit]"
    assert_reads(
        chapter_text(script, "Design"),
        "Light sources.",
        "Years: 1871–1923, Source: Paraffin lamp, Range: 11 nautical miles.",
    )
    assert_never_reads(
        text,
        "Jump to content",
        "Main page",
        "Contents",
        "(Top)",
        "6 languages",
        "View history",
        "From Coastpedia",
        "Lighthouse on the coast of Nordland",  # hidden short description
        "For the island itself",  # hatnote
        "Location",  # infobox
        "17 m (56 ft)",
        "The lighthouse in 2019",
        "[1]",
        "[edit]",
        "edit",
        "citation needed",
        "The station photographed around 1910",
        "See also",
        "List of lighthouses in Norway",
        "References",
        "Norwegian Coastal Administration",
        "Lights of the Vestfjord",
        "further notes written after the reference list",
        "External links",
        "Tennholmen",
        "Retrieved from",
        "Categories",
        "Creative Commons",
    )


def test_live_blog_entries_become_chapters_in_page_order() -> None:
    script = script_of("live-blog.html")
    assert titles(script) == [
        "Storm Elin live: ferries cancelled and thousands without power as gusts reach 90mph",
        "Ferries cancelled until Monday",  # the entry's heading
        "Power restored to 12,000 homes",  # a bold lead
        "15:10 GMT: The Met Office has extended the amber wind…",  # no heading: time + words
        "Coastal rail line closed at Saltcoats",
    ]
    assert script.article.byline == "Callum Reid, Anya Sorensen"
    power = chapter_text(script, "Power restored to 12,000 homes")
    # The bold lead is the chapter's title, so the paragraph goes on from after it.
    assert_reads(power, "The network operator says engineers have reconnected about half")
    assert power.count("Power restored to 12,000 homes") == 1
    text = spoken(script)
    assert_reads(
        text,
        "Passengers with bookings can change them free of charge",
        "Gusts of 90mph were recorded on the Tay Road Bridge",
        "“The sea wall did its job, but the track is covered in stones the size of a fist,”",
    )
    assert_never_reads(
        text,
        "Live\n",
        "Share on X",
        "Key events",
        "16:42 GMT",  # the timestamps are metadata (the untitled entry's title carries its own)
        "14:20",
        "Share",
        "Advertisement",
        "Older posts",
        "Most read",
        "Schools closed across three councils",
        "cookies",
        "Registered in Scotland",
    )


def test_opinion_column_without_subheadings_is_one_chapter() -> None:
    script = script_of("opinion.html")
    assert titles(script) == ["Let the library stay open late, and see who comes"]
    text = spoken(script)
    assert_reads(
        text,
        "Our town library closes at five o’clock on weekdays.",
        "a man reading a paperback by the light of the vending machine.",
        "Open late for six months, count who comes, and then decide.",
        "It just stopped being allowed in.",
    )
    # The pull-quote repeats a sentence of the column: it is heard once.
    assert text.count("designed a public library for people who do not work") == 1
    assert_never_reads(
        text,
        "Skip to main content",
        "Opinion",
        "By Danielle Okafor",
        "3 June 2024",
        "Listen to this article",
        "Advertisement",
        "Related:",
        "Council budget cuts",
        "The Weekend Read",
        "Sign up",
        "community organiser and a regular columnist",
        "Share this article",
        "Comments (31)",
        "Most read",
        "Traditional Custodians",
        "We use cookies",
    )


def test_faq_accordions_are_read_question_then_answer() -> None:
    script = script_of("faq.html")
    assert titles(script) == [
        "Residents’ parking permits: what changes on 1 April",
        "What changes on 1 April",
        "Frequently asked questions",
    ]
    faq = chapter_text(script, "Frequently asked questions").split("\n\n")
    # <details>, a Bootstrap accordion (hidden), an Elementor toggle (display:none and
    # aria-hidden) and a class-named pair (aria-hidden): every answer follows its question.
    assert faq == [
        "Frequently asked questions.",
        "Do I need to do anything if I already have a permit?",
        "No. Your current permit stays valid until it expires, and you will be sent a reminder "
        "to renew online.",
        "How much will a permit cost?",
        "A first permit costs £60 a year. A second permit for the same address costs £110.",
        "Can my visitors still park?",
        "Yes. Each household can buy up to 50 visitor sessions a year through the app or by phone.",
        "What if I do not have a smartphone?",
        "You can apply by phone or at the library, and ask for a paper permit to display in your "
        "windscreen.",
        "For anything else, call the parking team on 01632 960 123 between 9am and 5pm.",
    ]
    # Hidden elements that are not FAQ answers stay unread.
    assert_never_reads(
        spoken(script),
        "Get council news by email",
        "Early renewal discount",
        "Decorative repeat",
        "Was this page useful",
        "Published 26 February 2024",
        "Share this page",
        "Accessibility",
    )


@pytest.mark.parametrize(
    ("page", "title", "sentences"),
    [
        (
            "encoding-windows-1252.html",  # no declaration at all
            "Café owners count the cost of the “winter menu”",
            [
                "“We thought we’d sell ten bowls a day,” said Ramón Ibañez",
                "A bowl costs €4.50, bread included.",
                "everything else — and the bill",
                "before noon… which is when",
            ],
        ),
        (
            "encoding-latin1.html",  # http-equiv ISO-8859-1, written with windows-1252 quotes
            "Festival de Inverno regressa a São João da Serra",
            [
                "O Festival de Inverno volta à praça principal de São João da Serra",
                "Os bilhetes custam £5 para visitantes estrangeiros",
                "“E a primeira vez que o festival tem dois palcos”, disse a vereadora da cultura, "
                "Conceição Araújo",
                "‘a maior de sempre’",
            ],
        ),
        (
            "encoding-utf8-bom.html",  # a BOM wins over a stale <meta charset="windows-1252">
            "A night train from Kraków to Budapest",
            [
                "The sleeper leaves Kraków Główny at 21:50",
                "without losing a day — or a night.",
                "a retired teacher from Košice",
                "the naïve tourists",
                "At Žilina the train stops",
                "a pastry called šiška",
            ],
        ),
    ],
)
def test_encodings(page: str, title: str, sentences: list[str]) -> None:
    script = script_of(page)
    assert script.article.title == title
    assert titles(script) == [title]
    text = spoken(script)
    assert_reads(text, *sentences)
    assert "\ufffd" not in text and "Ã" not in text  # no replacement characters, no mojibake
    assert_never_reads(text, "Copyright", "©", "Contactos", "Travel")


def test_bad_html() -> None:
    # Unquoted attributes, unclosed <p> and <li>, a <p> inside a <p>, mis-nested <b><i>, stray
    # end tags that split the article container in two, <br> line breaks, named and numeric
    # entities.
    script = script_of("bad-html.html")
    assert script.article.byline == "Sam O'Neill"
    assert titles(script) == [
        "Volunteers reopen the lido after a decade",
        "How the money was raised",
        "What happens next",
    ]
    text = spoken(script)
    assert_reads(
        text,
        "A group of volunteers raised £180,000 and spent two winters repairing the tiles, the "
        "pumps and the café.\n\nMore than four hundred swimmers",
        "before eight o’clock. The water was 17°C — bracing, not freezing, as the first man in",
        "The pool’s trust now leases it from the council for £1 a year",
        "and must cover its own running costs, estimated at £60,000 a season.",
        "a lottery grant & local businesses",
        "Crowdfunding: £112,000.\n\nLottery grant: £50,000.\n\nBusiness sponsors: £18,000.",
        "Season tickets go on sale next month.\n\nSingle swims cost £4.\n\nChildren under five",
    )
    assert_never_reads(text, "What's on", "&pound;", "&amp;", "<p>", "bgcolor")


@pytest.mark.parametrize(
    ("page", "why"),
    [("not-found.html", "an error page"), ("tag-index.html", "list of links")],
)
def test_pages_without_an_article_are_refused(page: str, why: str) -> None:
    with pytest.raises(ListenError, match=rf"no article text found in .*{page}.*{why}"):
        extract_file(PAGES / page)


def test_a_short_article_with_teasers_is_not_refused() -> None:
    script = script_of("short-news.html")
    assert titles(script) == ["Bridge Street closed for gas main repair until Friday"]
    text = spoken(script)
    assert_reads(text, "Buses 3 and 7 are diverted along Mill Lane.", "posed no danger")
    assert_never_reads(text, "More from News", "Volunteers reopen the lido", "rent freeze")


# --- the editor's dry run, through the CLI ---------------------------------------------------


def test_cli_dry_run_json_for_a_live_blog() -> None:
    done = run_listen("extract", PAGES / "live-blog.html", "--format", "json")
    data = json.loads(done.stdout)
    assert data["title"].startswith("Storm Elin live")
    assert data["language"] == "en-GB"
    assert [c["title"] for c in data["chapters"]][1:3] == [
        "Ferries cancelled until Monday",
        "Power restored to 12,000 homes",
    ]
    assert data["chapters"][1]["text"].startswith("Ferries cancelled until Monday.\n\nCalMac")
    assert "Advertisement" not in done.stdout


def test_cli_dry_run_text_and_markdown_for_the_wiki_page() -> None:
    text = run_listen("extract", PAGES / "wiki.html", "--format", "text").stdout
    assert "[Chapter 2] History" in text
    assert "[Chapter 3] Design" in text
    assert "See also" not in text and "[edit]" not in text
    markdown = run_listen("extract", PAGES / "wiki.html", "--format", "markdown").stdout
    assert markdown.startswith("# Skarvholmen Lighthouse")
    assert "## 3. Design" in markdown


def test_cli_refuses_a_tag_index_with_one_error_line() -> None:
    done = run_listen("extract", PAGES / "tag-index.html", check=False)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith("error: no article text found in")
    assert done.stderr.count("\n") == 1
