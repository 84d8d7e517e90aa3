"""The extraction rules one at a time, on small inline pages."""

from __future__ import annotations

import pytest

from listen.errors import ListenError
from listen.extract import (
    declared_charset,
    decode_html,
    extract,
    is_dateline,
    parse_html,
    table_sentences,
)

PROSE = "The harbour board met on Tuesday and agreed new mooring fees for the summer. " * 3


def page(body: str, head: str = "<title>Mooring fees</title>") -> str:
    return (
        f"<html><head>{head}</head><body><article><h1>Mooring fees</h1>{body}</article>"
        "</body></html>"
    )


def read(html: str | bytes) -> str:
    article = extract(html)
    parts = []
    for section in article.sections:
        if section.heading:
            parts.append(f"## {section.heading}")
        parts.extend(block.text for block in section.blocks)
    return "\n".join(parts)


# --- charset ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b'<meta charset="utf-8">', "utf-8"),
        (b"<meta charset=ISO-8859-1>", "windows-1252"),
        (b'<meta http-equiv="Content-Type" content="text/html; charset=latin1">', "windows-1252"),
        (b"<meta content='text/html; charset=Shift_JIS' http-equiv='Content-Type'>", "shift_jis"),
        (b'<?xml version="1.0" encoding="ISO-8859-2"?>', "iso-8859-2"),
        (b'<meta charset="utf-16">', "utf-8"),  # as browsers do for a byte-oriented page
        (b"<title>no declaration</title>", None),
    ],
)
def test_declared_charset(head: bytes, expected: str | None) -> None:
    assert declared_charset(b"<html><head>" + head + b"</head></html>") == expected


def test_decode_prefers_bom_then_declaration_then_utf8_then_windows_1252() -> None:
    text = "<p>Zürich – “naïve” €5</p>"
    assert decode_html(b"\xff\xfe" + text.encode("utf-16-le")) == text
    assert decode_html(b'<meta charset="iso-8859-2">' + "Łódź".encode("iso-8859-2")).endswith(
        "Łódź"
    )
    assert decode_html(text.encode("utf-8")) == text  # undeclared UTF-8
    assert decode_html(text.encode("cp1252")) == text  # undeclared legacy page
    # A declaration the bytes do not fit is ignored (a UTF-8 page that says windows-1252
    # would decode without error, so that case follows the declaration, like browsers).
    assert decode_html(b'<meta charset="utf-8">' + text.encode("cp1252")).endswith(text)
    assert decode_html(b'<meta charset="no-such-charset">' + text.encode("utf-8")).endswith(text)


def test_entities_are_decoded() -> None:
    html = page(
        "<p>Fees rise by &pound;5 &mdash; &ldquo;fair&rdquo;, says O&#39;Neill &amp; co. "
        f"{PROSE}</p>"
    )
    assert "Fees rise by £5 — “fair”, says O'Neill & co." in read(html)


# --- hidden elements and FAQ answers ---------------------------------------------------------


def test_hidden_elements_are_dropped_however_they_are_hidden() -> None:
    html = page(
        f"<p>{PROSE}</p>"
        "<p hidden>Hidden attribute text.</p>"
        '<p aria-hidden="true">Aria hidden text.</p>'
        '<p style="display: none">Display none text.</p>'
        '<p style="visibility:hidden">Visibility hidden text.</p>'
        '<p class="hidden">Hidden class text.</p>'
        '<div class="d-none"><p>Bootstrap hidden text.</p></div>'
        "<template><p>Template text.</p></template><noscript>Enable JavaScript.</noscript>"
        f"<p>{PROSE}</p>"
    )
    text = read(html)
    for hidden in ("Hidden attribute", "Aria hidden", "Display none", "Visibility hidden",
                   "Hidden class", "Bootstrap hidden", "Template text", "JavaScript"):  # fmt: skip
        assert hidden not in text


def test_a_collapsed_answer_outside_an_faq_stays_hidden() -> None:
    html = page(
        f"<p>{PROSE}</p>"
        '<div class="more"><p class="title">Read the full statement?</p>'
        '<div class="content" hidden><p>The full statement, collapsed.</p></div></div>'
    )
    assert "collapsed" not in read(html)


def test_schema_org_question_microdata_is_read() -> None:
    html = page(
        f"<p>{PROSE}</p>"
        '<div itemscope itemtype="https://schema.org/Question">'
        '<h3 itemprop="name">When are fees due?</h3>'
        '<div itemprop="acceptedAnswer" itemscope itemtype="https://schema.org/Answer" '
        'style="display:none"><p itemprop="text">By the first of May.</p></div></div>'
    )
    assert "When are fees due?\nBy the first of May." in read(html)


def test_an_faq_only_in_json_ld_is_read_as_a_last_chapter() -> None:
    ld = """<script type="application/ld+json">{"@context": "https://schema.org",
      "@type": "FAQPage", "mainEntity": [
        {"@type": "Question", "name": "Who sets the fees?",
         "acceptedAnswer": {"@type": "Answer", "text": "<p>The harbour board.</p>"}},
        {"@type": "Question", "name": "Can I pay monthly?",
         "acceptedAnswer": {"@type": "Answer", "text": "Yes, by direct debit."}}]}</script>"""
    article = extract(page(f"<p>{PROSE}</p>", head=f"<title>Mooring fees</title>{ld}"))
    last = article.sections[-1]
    assert last.heading == "Frequently asked questions"
    assert [(b.kind, b.text) for b in last.blocks] == [
        ("subheading", "Who sets the fees?"),
        ("paragraph", "The harbour board."),
        ("subheading", "Can I pay monthly?"),
        ("paragraph", "Yes, by direct debit."),
    ]


# --- live blogs ------------------------------------------------------------------------------


def entries(count: int) -> str:
    return "".join(
        f'<div class="post"><time datetime="2024-05-01T1{i}:00:00Z">1{i}:00</time>'
        f"<h3>Update number {i}</h3><p>{PROSE}</p></div>"
        for i in range(count)
    )


def test_two_entries_make_a_live_blog_only_when_json_ld_says_so() -> None:
    two = entries(2).replace("<h3>Update number 0</h3>", "").replace("<h3>Update number 1</h3>", "")
    ld = '<script type="application/ld+json">{"@type": "LiveBlogPosting"}</script>'
    declared = extract(page(two, head=f"<title>Mooring fees</title>{ld}"))
    assert [s.heading for s in declared.sections] == [
        None,
        "10:00: The harbour board met on Tuesday and agreed…",
        "11:00: The harbour board met on Tuesday and agreed…",
    ]
    undeclared = extract(page(two))
    assert [s.heading for s in undeclared.sections] == [None]


def test_three_timestamped_entries_make_a_live_blog() -> None:
    html = page(entries(3).replace("<h3>Update number 1</h3>", ""))
    assert [s.heading for s in extract(html).sections] == [
        None,
        "Update number 0",
        "11:00: The harbour board met on Tuesday and agreed…",
        "Update number 2",
    ]


def test_comments_with_timestamps_are_not_a_live_blog() -> None:
    comments = "".join(
        f'<li class="comment"><time>1{i}:00</time><p>Comment {i}: {PROSE}</p></li>'
        for i in range(4)
    )
    body = f"<p>{PROSE}</p><h2>Why</h2><p>{PROSE}</p><ol class='comment-list'>{comments}</ol>"
    text = read(page(body))
    assert "Comment" not in text
    assert text.count("## ") == 1


# --- other chrome rules ----------------------------------------------------------------------


def test_footnote_markers_go_but_superscripts_of_the_text_stay() -> None:
    html = page(
        f"<p>The 1<sup>st</sup> berth measures 40 m<sup>2</sup>.<sup><a href='#fn1'>1</a></sup> "
        f"Fees rose again.<sup class='reference'>[2]</sup> Marker [3] in the text. "
        f"See note<a href='#note-4' class='footnote-ref'>4</a>. {PROSE}</p>"
    )
    text = read(html)
    assert "The 1st berth measures 40 m2. Fees rose again. Marker in the text. See note." in text


def test_pull_quotes_are_dropped_only_when_they_repeat_the_text() -> None:
    sentence = "Nobody on the board wanted to raise the fees this year."
    html = page(
        f"<p>{PROSE} {sentence} {PROSE}</p>"
        f'<blockquote class="pullquote">{sentence}</blockquote>'
        "<blockquote><p>We will review the fees again in the autumn, said the chair.</p>"
        "</blockquote>"
        f"<p>{PROSE}</p>"
    )
    text = read(html)
    assert text.count("Nobody on the board") == 1
    assert "We will review the fees again in the autumn" in text


def test_reference_sections_are_dropped_up_to_the_next_heading_of_the_same_level() -> None:
    html = page(
        f"<h2>Background</h2><p>{PROSE}</p>"
        "<h2>Sources</h2><p>Harbour board minutes, 2024.</p><h3>Archive</h3><p>Old minutes.</p>"
        f"<h2>Next steps</h2><p>{PROSE}</p>"
        "<h2>Related articles</h2><ul><li>Some <a href='/a'>story</a> about boats</li></ul>"
    )
    text = read(html)
    assert "## Background" in text and "## Next steps" in text
    for gone in ("Sources", "minutes", "Archive", "Related", "about boats"):
        assert gone not in text


def test_recirculation_lines_and_link_lists_are_dropped() -> None:
    html = page(
        f"<p>{PROSE}</p>"
        "<p><strong>READ MORE:</strong> <a href='/x'>Harbour wall repairs finished early</a></p>"
        "<ul><li><a href='/a'>Ferry fares frozen</a></li><li><a href='/b'>Quay reopens</a></li>"
        "<li><a href='/c'>Fish prices steady</a></li></ul>"
        "<ul><li>Moorings: <a href='/fees'>£400</a> a season</li><li>Visitors: £20 a night</li>"
        "<li>Dinghies: free</li></ul>"
        f"<p>{PROSE}</p>"
    )
    text = read(html)
    for gone in ("READ MORE", "repairs finished", "Ferry fares", "Quay reopens"):
        assert gone not in text
    assert "Moorings: £400 a season\nVisitors: £20 a night\nDinghies: free" in text


def test_a_table_with_row_headers_reads_label_then_values() -> None:
    root = parse_html(
        "<table><tr><th>Berths</th><td>120</td></tr><tr><th>Depth</th><td>4 m</td>"
        "<td>at low tide</td></tr></table>"
    )
    assert table_sentences(root.find(".//table")) == ["Berths: 120.", "Depth: 4 m, at low tide."]


@pytest.mark.parametrize(
    ("line", "is_date"),
    [
        ("Feb 11, 2024", True),
        ("Updated 9 April 2024 at 10:15 BST", True),
        ("Published Tuesday, 5 March", True),
        ("29 November 2018 | 20 January 2019", False),  # a range: information
        ("9.30 A.M. / 7.00 P.M.", False),
        ("02-751-1500", False),
        ("In April 2024 the board met.", False),
    ],
)
def test_dateline(line: str, is_date: bool) -> None:
    assert is_dateline(line) is is_date


# --- pages that are not articles -------------------------------------------------------------


def teaser(i: int) -> str:
    return (
        f'<div class="item"><h2><a href="/2024/0{i}/story-{i}">A headline for story number {i} '
        f"goes here</a></h2><p>A short excerpt of story {i}, one or two sentences long, as index "
        f"pages show them.</p></div>"
    )


def test_an_index_of_teasers_is_refused_without_any_metadata() -> None:
    teasers = "".join(teaser(i) for i in range(1, 7))
    html = f"<html><head><title>Harbour</title></head><body><h1>Harbour</h1>{teasers}</body></html>"
    with pytest.raises(ListenError, match="no article text found in <page>"):
        extract(html)


def test_an_error_page_is_refused_but_an_article_about_errors_is_not() -> None:
    shell = page(
        "<p>Sorry, we could not find the page you were looking for. It may have been moved.</p>"
        "<p>Try the search box above, or browse the latest news from the harbour.</p>"
        "<p>If you followed a link from another site, please let them know it is broken.</p>",
        head="<title>404 - Page not found</title>",
    ).replace("<h1>Mooring fees</h1>", "<h1>Page not found</h1>")
    with pytest.raises(ListenError, match="no article text found"):
        extract(shell)
    essay = page(f"<p>{PROSE * 8}</p>", head="<title>Why 404 pages matter</title>").replace(
        "<h1>Mooring fees</h1>", "<h1>Why 404 pages matter</h1>"
    )
    assert extract(essay).title == "Why 404 pages matter"


def test_a_short_article_before_a_row_of_teasers_is_not_an_index() -> None:
    # Under a heading no rule knows, the teasers stay in the body: the listing heuristic must
    # still see one dominant run of prose (the article) and keep the page.
    teasers = "".join(teaser(i) for i in range(1, 6))
    html = page(
        "<p>Bridge Street is closed between the station and the market square until Friday.</p>"
        "<p>Buses 3 and 7 are diverted along Mill Lane, and shops remain open on foot.</p>"
        "<p>The gas network said the leak posed no danger to the public.</p>"
        f"<h3>Elsewhere in Eastmoor</h3>{teasers}"
    )
    assert "Buses 3 and 7 are diverted along Mill Lane" in read(html)


# --- charsets as browsers know them, XHTML, page size ----------------------------------------


def test_only_whatwg_labels_are_charsets() -> None:
    # A Python-only codec named by a page is ignored, as browsers ignore it: the bytes decode
    # as UTF-8 when they are UTF-8, else as windows-1252.
    for label in ("unicode_escape", "raw_unicode_escape", "rot13", "idna", "undefined"):
        head = f'<meta charset="{label}">'.encode()
        assert declared_charset(head) is None
        assert decode_html(head + "Caf\u00e9 \\u0041".encode()) == head.decode() + "Café \\u0041"
        assert decode_html(head + b"Caf\xe9 \x93x\x94") == head.decode() + "Café “x”"


def test_every_whatwg_label_decodes_with_a_python_codec() -> None:
    from listen.extract.decoding import PYTHON_CODECS, WHATWG_LABELS

    assert len(WHATWG_LABELS) > 200
    for label, name in WHATWG_LABELS.items():
        assert name in PYTHON_CODECS, label
        "abc".encode("ascii").decode(PYTHON_CODECS[name])


def test_an_xhtml_page_is_read_quietly(capfd: pytest.CaptureFixture[str]) -> None:
    import warnings

    xhtml = (
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 '
        'Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n<html xmlns="http://'
        'www.w3.org/1999/xhtml" xml:lang="en"><head><title>Mooring fees</title></head><body>'
        f"<h1>Mooring fees</h1><p>{PROSE}</p></body></html>"
    ).encode()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any library warning fails the test
        article = extract(xhtml)
    assert article.title == "Mooring fees" and article.language == "en"
    assert capfd.readouterr().err == ""


def test_a_local_page_over_the_cap_is_refused_before_it_is_read(tmp_path) -> None:
    from listen.extract import read_page

    big = tmp_path / "big.html"
    big.write_bytes(b"<p>" + b"x" * (3 * 1024 * 1024))
    with pytest.raises(ListenError, match=r"page too large \(over 2 MB\)"):
        read_page(big, max_bytes=2 * 1024 * 1024)
    assert read_page(big, max_bytes=4 * 1024 * 1024).startswith(b"<p>xxx")


# --- text rules on a block's own words -------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "promotion"),
    [
        ("Follow us on Facebook, Instagram and X for the latest news.", True),
        ("Listen live at riversidefm.example or on your smart speaker.", True),
        ("Get the Riverside FM app for news alerts and travel.", True),
        ("Sign up for our daily newsletter to get the headlines first.", True),
        ("Have a story? Email news@example.org.", True),
        ("The band said it would follow the tour with a live album.", False),
        ("She asked the council to send us the minutes.", False),
    ],
)
def test_promotion(line: str, promotion: bool) -> None:
    from listen.extract.chrome import is_promotion

    assert is_promotion(line) is promotion


@pytest.mark.parametrize(
    ("text", "notice"),
    [
        ("This page is best viewed in an up-to-date web browser with style sheets enabled.", True),
        ("You need to enable JavaScript to run this app.", True),
        ("This website uses cookies. By continuing to use our website you agree.", True),
        ("Google said on Tuesday that its browser would block third-party trackers.", False),
    ],
)
def test_site_notice(text: str, notice: bool) -> None:
    from listen.extract.chrome import is_site_notice

    assert is_site_notice(text) is notice


def test_labels_of_recirculation_and_live_blog_furniture_are_not_read() -> None:
    said = (
        "Key event",
        "Member-only story",
        "Published in The Local Desk",
        "Most read in world news",
        "DON'T MISS",
        "Advert",
        "Topics:",
        "SOURCE: News agencies",
    )
    labels = "".join(f"<p>{label}</p>" for label in said)
    text = read(page(f"<p>{PROSE}</p>{labels}<p>{PROSE}</p>"))
    for label in ("Key event", "Member-only", "Published in", "Most read", "MISS", "Advert",
                  "Topics", "SOURCE"):  # fmt: skip
        assert label not in text


def test_a_shouted_link_line_is_not_read_but_a_shouted_sentence_is() -> None:
    html = page(
        f"<p>{PROSE}</p><p><a href='/b'>READ MORE ON THE HARBOUR BY CLICKING HERE</a></p>"
        "<p>THE BOARD WILL MEET AGAIN IN MAY.</p>"
    )
    text = read(html)
    assert "CLICKING HERE" not in text and "THE BOARD WILL MEET AGAIN IN MAY." in text


def test_shortcodes_and_citation_markers_are_cleaned_out() -> None:
    from listen.extract.text import clean_text

    assert clean_text('[button link="/x" type="big"]Send us your review[/button]') == (
        "Send us your review"
    )
    assert clean_text("He wrote it [sic] twice.") == "He wrote it [sic] twice."
    assert clean_text("as reported earlier (10, 11). Then") == "as reported earlier. Then"
    assert clean_text("healing (5–7), though") == "healing, though"
    assert clean_text("edged Opelka 7-6 (5), 7-6 (7)") == "edged Opelka 7-6 (5), 7-6 (7)"
    assert clean_text("Palm Bay (1-0): Tolivert 25") == "Palm Bay (1-0): Tolivert 25"
    listed = "two things: (1) this, and (2) that."
    assert clean_text(listed) == listed


# --- class names -----------------------------------------------------------------------------


def test_a_posts_own_categories_and_tags_are_not_chrome() -> None:
    # WordPress writes the post's categories into its classes: "podcast" and "social" are the
    # site's topics here, not a podcast player or a share bar.
    html = (
        "<html><head><title>Tips</title></head><body><div class='post hentry category-podcast "
        f"category-social-media tag-share'><h1>Tips</h1><p>{PROSE}</p><p>{PROSE}</p></div>"
        "<div class='sidebar'><p>"
        + "An archive of older posts, by month and by year. " * 2
        + "</p></div></body></html>"
    )
    text = read(html)
    assert "harbour board met on Tuesday" in text and "archive of older posts" not in text


def test_camel_case_class_names_and_custom_elements_are_read_as_words() -> None:
    from listen.extract import parse_html
    from listen.extract.text import class_words

    root = parse_html(
        "<body><bsp-promo class='PromoSmall-titleContainer'>x</bsp-promo>"
        "<div id='siteSub'>y</div></body>"
    )
    promo, sub = root.find(".//bsp-promo"), root.find(".//div")
    assert {"promo", "small", "title", "container", "bsp"} <= class_words(promo)
    assert {"site", "sub"} <= class_words(sub)


# --- weak chrome and the vote ----------------------------------------------------------------


def test_a_caption_or_an_author_box_is_not_read_beside_an_article() -> None:
    html = page(
        f"<p>{PROSE}</p><p>{PROSE}</p><p>{PROSE}</p><div class='wp-caption'><p>The harbour at "
        "dawn, seen from the pier.</p></div><div class='author-box'><p>Ana Ruiz covers the "
        "harbour for the Gazette and has lived in the town since 2011.</p></div>"
    )
    text = read(html)
    assert "harbour board met" in text
    assert "seen from the pier" not in text and "Ana Ruiz covers" not in text


def test_a_run_of_link_lines_between_paragraphs_is_not_read() -> None:
    links = "".join(
        f"<p><a href='/story-{i}'>Another story about the harbour, number {i}</a></p>"
        for i in range(1, 5)
    )
    article = "".join(
        f"<p>On day {day} of the inquiry the harbour board heard from {day * 3} witnesses about "
        f"the mooring fees, the dredging contract and the state of berth {day + 10}.</p>"
        for day in range(1, 9)
    )
    text = read(page(f"{article[:800]}<p>You may also like...</p>{links}{article[800:]}"))
    assert "Another story" not in text and "You may also like" not in text
    assert "On day 1 of the inquiry" in text and "the state of berth 18." in text


def test_the_vote_reads_what_listen_and_the_other_two_extractors_agree_on() -> None:
    from listen.extract.consensus import Opinion

    opinion = Opinion.of("Countries\nThe harbour board met on Tuesday and agreed new fees.")
    assert opinion.holds("The harbour board met on Tuesday")
    assert opinion.holds("Countries")
    assert not opinion.holds("countries of the world")  # a short block must be a whole line
    assert not opinion.holds("The ferry board met on Friday and agreed nothing")


# --- the headline ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "site", "headline"),
    [
        ("Paris - Wikipedia", "Wikipedia", "Paris"),
        ("Ferry fares frozen for a second year | Tidewater Times", "",
         "Ferry fares frozen for a second year"),
        ("The false choice of mediocrity | Seth's Blog", "", "The false choice of mediocrity"),
        ("Analysis: what the vote means", "", "Analysis: what the vote means"),
        ("Just one title", "Example", "Just one title"),
    ],
)  # fmt: skip
def test_without_site_name(title: str, site: str, headline: str) -> None:
    from listen.extract.headline import without_site_name

    assert without_site_name(title, [site]) == headline


def test_a_heading_agrees_with_a_title_only_when_it_says_the_same() -> None:
    from listen.extract.headline import agrees

    assert agrees("Paris", "Paris - Wikipedia")
    assert agrees("Kenmore approves new cycle lanes", "Kenmore approves new cycle lanes | Times")
    assert not agrees("Seth's Blog", "Seth's Blog: The false choice of mediocrity")
    assert not agrees("New Jersey", "Morris County school closings Thursday and beyond")
