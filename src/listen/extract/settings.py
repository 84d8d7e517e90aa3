"""Every number the extraction heuristics use, in one place, each with the reason for it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    #: A paragraph shorter than this does not count as evidence of article text.
    min_paragraph_chars: int = 25
    #: Share of a paragraph's text inside links above which it is navigation, not prose.
    max_link_density: float = 0.5
    #: A chrome-looking element holding more than this share of the page's prose is kept anyway
    #: (a theme that puts "share-enabled" on the article wrapper must not lose the article).
    max_chrome_share_of_prose: float = 0.5
    #: Climb from the best-scoring container to its parent while the parent has this much
    #: more prose.
    climb_ratio: float = 1.5
    #: A block whose whole text is boilerplate is only recognised as such when this short.
    max_boilerplate_chars: int = 160
    #: A site notice (browser, cookies) is at most this long: an article about browsers is not.
    notice_max_chars: int = 500
    #: A promotion ("Follow us on...") is at most this long...
    promo_max_chars: int = 240
    #: ...and a caption left as a line of text ("... (Image: GETTY)").
    caption_max_chars: int = 300
    #: A footnote marker ("[12]", "(3)") is at most this long...
    marker_max_chars: int = 24
    #: ...and written-in markers cleaned out of a text make it at most this much shorter.
    marker_slack_chars: int = 40
    #: Less article text than this (not one sentence) and the page is refused as "no article".
    #: A short post is still an article: refusals are for listings, error pages, empty shells.
    min_article_chars: int = 25
    #: A semantic body marker (itemprop=articleBody, .entry-content...) is trusted when it
    #: holds at least this share of the page's prose...
    body_marker_share: float = 0.5
    #: ...and, to shield it from the chrome rules, at least this much prose.
    body_marker_min_chars: int = 200
    #: A list whose items are all links is a link list (not read) from this many items.
    link_list_min_items: int = 3
    #: A quotation is a pull-quote when this share of its 4-word runs also stands in the body.
    pullquote_repeat_share: float = 0.6
    #: Live blogs: this many sibling entries with a timestamp and prose each (fewer when JSON-LD
    #: declares a LiveBlogPosting)...
    live_min_entries: int = 3
    live_min_entries_declared: int = 2
    #: ...holding at least this share of the page's prose.
    live_min_prose_share: float = 0.5
    #: An entry without a heading is titled with its time and this many of its first words.
    entry_title_words: int = 8
    #: A teaser card (a headline link, a kicker, a blurb) is at most this long...
    teaser_max_chars: int = 300
    #: ...and a run of cards is an element at least this share of whose children are teasers.
    teaser_list_share: float = 0.8
    #: Index pages: a teaser title is a link-only block at least this long...
    teaser_title_min_chars: int = 20
    #: ...this many of them...
    listing_min_teasers: int = 4
    #: ...and no run of prose between two of them longer than this: a list of links, refused.
    listing_max_run_chars: int = 600
    #: ...unless one run is this many times the typical one (an article before its teasers).
    listing_dominance: float = 2.5
    #: A page titled like an error page ("Page not found") is refused below this much prose.
    error_page_max_chars: int = 1500
    #: A heading agrees with a metadata title when this share of its words are the title's.
    headline_agreement: float = 0.8
    #: A title cut to its longest part must keep this many words (else the whole title stays).
    headline_min_words: int = 2
    #: A heading this many elements after the article's element starts still counts as before
    #: it (the headline inside the article's wrapper).
    headline_reach: int = 20
    #: A standfirst stands at most this many elements after the headline...
    standfirst_reach: int = 40
    #: ...and is a sentence or two long.
    standfirst_min_chars: int = 40
    standfirst_max_chars: int = 400
    #: listen's body and trafilatura's agree on a page (F1 of their 4-word runs) from this on;
    #: below it, readability is asked too and the three vote block by block.
    vote_agreement: float = 0.9
    #: An extractor's text holds a block when it holds this share of the block's 4-word runs.
    vote_block_share: float = 0.5


THRESHOLDS = Thresholds()
