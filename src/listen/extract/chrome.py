"""What is never narrated: site chrome and boilerplate. Each rule is a named predicate on one
element; `drop_chrome` applies them in order, never to the elements that hold the article."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from itertools import islice

from listen.extract.marks import LABEL, LINKS, MARK, WEAK
from listen.extract.pictures import keep_picture
from listen.extract.prose import Prose
from listen.extract.settings import THRESHOLDS
from listen.extract.text import (
    BLOCK_TAGS,
    HEADING_TAGS,
    Element,
    block_parent,
    class_words,
    clean_text,
    drop_tree,
    element_text,
    heading_level,
    raw_text,
    same_text,
    shingles,
    split_token,
    tokens,
    within,
    words,
)

#: Never text of the article, wherever they stand, and dropped before anything else is
#: looked at (their text would count as prose). <script>s are read for JSON-LD before this.
NON_TEXT_TAGS = (
    "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas",
    "link", "meta", "audio", "video", "head",
)  # fmt: skip
#: Never text of the article either, but dropped only after the structure rules ran (an FAQ's
#: question is often its toggle <button>, which the FAQ rule renames).
NEVER_CONTENT_TAGS = ("button", "input", "select", "textarea", "label", "figcaption", "dialog",
                      "menu")  # fmt: skip
#: Site furniture by tag. Dropped like class-named chrome, with the same safety valve: an
#: ASP.NET page wraps its whole body in one <form>, some themes put the article in <aside>.
#: (<header> is not among them: sections carry their headings in one.)
CHROME_TAGS = frozenset(("form", "nav", "footer", "aside"))

CHROME_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "dialog",
                "alertdialog", "menu", "menubar", "toolbar", "alert"}  # fmt: skip

# Class or id words of site chrome. Matched against whole tokens split on - _ and :, so
# "share" matches "post-share-bar" but not "shareholders".
CHROME_WORDS = frozenset({
    "nav", "navbar", "navigation", "menu", "breadcrumb", "breadcrumbs", "toc", "sidebar",
    "share", "sharing", "social", "sharedaddy", "subscribe", "subscription", "newsletter",
    "signup", "comment", "comments", "respond", "disqus", "related", "recommended", "recirc",
    "promo", "advert", "advertisement", "ads", "ad", "sponsor", "sponsored", "cookie",
    "cookies", "consent", "gdpr", "popup", "modal", "footer", "foot", "paywall", "tags", "tagcloud",
    "pagination", "pager", "print",
    "listen", "tts", "podcast", "scroll", "scrolltop",
    "backtotop", "skip", "infobox", "navbox", "reflist", "references", "footnotes",
    "editsection", "toolbar", "actions", "follow",
    "footnote", "hatnote", "catlinks", "sitesub", "noprint", "ambox", "bookmark", "cta",
    "copyright", "outbrain", "taboola", "recirculation",
    "btn", "button",
})  # fmt: skip
#: Chrome words that name a small label rather than a region of the page: a caption or credit,
#: a byline or dateline, the post's meta line, an author's bio, a masthead. On a small element
#: a sure sign; but some themes put the post itself in an element so named (a photo blog's text
#: in "caption-image" blocks). So elements so named are left out of listen's own choice of the
#: body, but stay on the page the extractors vote on.
WEAK_CHROME_WORDS = frozenset({
    "caption", "credit", "credits", "byline", "dateline", "meta", "bio", "author-bio",
    "thumbcaption", "gallerytext", "masthead", "banner",
})  # fmt: skip
CHROME_PHRASES = (
    "table-of-contents", "tableofcontents", "ez-toc", "elementor-toc", "read-more", "more-stories",
    "most-read", "most-popular", "author-box", "about-author", "scroll-top", "back-to-top",
    "screen-reader", "sr-only", "visually-hidden", "trinity", "listen-to", "text-to-speech",
    "audio-player", "media-player", "video-player", "jwplayer", "wp-block-buttons", "see-also",
    "external-links", "mw-editsection", "site-header", "global-header", "read-next", "readnext",
    "more-from", "you-may-like", "jump-link", "cookiebot", "onetrust",
    "post-navigation", "jp-relatedposts",
)  # fmt: skip
WEAK_CHROME_PHRASES = (
    "author-box", "about-author", "author-info", "author-card", "author-profile", "authorbox",
    "post-author", "entry-author", "about-the-author",
)  # fmt: skip

_CHROME_PHRASE = re.compile("|".join(map(re.escape, CHROME_PHRASES)))
_WEAK_CHROME_PHRASE = re.compile("|".join(map(re.escape, WEAK_CHROME_PHRASES)))
# Containers that are article bodies even though they contain a chrome word ("entry-header"...).
BODY_MARKERS = re.compile(
    r"(^|[\s_-])(entry-content|post-content|article-body|article__body|articlebody|story-body|"
    r"post-body|content-body|body-text|article-content|rich-text|gh-content|mw-parser-output|"
    r"field--name-body|available-content|markup)($|[\s_-])",
    re.IGNORECASE,
)

BOILERPLATE_TEXT = re.compile(
    r"^(?:"
    r"table of contents|contents|listen to this article|listen now|play audio|"
    r"leave a (?:comment|reply)|comments?(?: \(\d+\))?|\d+ comments?|post comment|"
    r"add new comment|log in to post comments|"
    r"your email address will not be published.*|required fields are marked.*|"
    r".*subscribe to our .*|subscribe(?: now| today| for free)?(?: to .{1,60})?|"
    r"sign up.*newsletter.*|.*newsletter.*sign up.*|"
    r"thanks for reading.{0,80}subscribe.*|.*subscribe for free.*|upgrade to paid|"
    r"ready for more\?|"
    r"scroll to top|back to top|advertisement|sponsored|share(?: this(?: article| post| story)?)?|"
    r"share on \w+|share this on \w+|follow(?: us.*)?|following|\d+(?:\.\d)?k? followers|"
    r"\d+\s*min(?:ute)?s?(?: read| listen).{0,60}|related(?: articles| posts| stories)?|"
    r"read more|see also|external links|references|notes|footnotes|print|email|"
    r"skip to (?:main )?content|we use cookies.*|this site uses cookies.*|"
    r"accept(?: all)?(?: cookies)?|"
    r"(?:story|article) continues below(?: (?:this )?advertisement)?|continue reading below|"
    r"(?:photo|photograph|image|picture|illustration|graphic)s?(?: by| credit)?\s*[:©|].{0,120}|"
    # labels of the recirculation and live-blog furniture around an article
    r"(?:our |the )?latest (?:stories|news|posts|articles)|don'?t miss(?: this)?|must read|"
    r"most (?:read|popular|viewed|shared)(?: (?:in|on|from) .{1,40})?|trending(?: now)?|"
    r"you (?:may|might) (?:also )?(?:like|enjoy)|more (?:stories|news|videos)(?: .{1,40})?|"
    r"key events?|pinned(?: post)?|show key events only|breaking(?: news)?|just in|"
    r"member-only story|published in .{1,80}|"
    r"topics|tags|filed under|categories|related topics|more|"
    # the labels of a page's controls, left as text
    r"close|menu|search|loading|toggle navigation|"
    # advertising labels and credit lines
    r"adverts?|ads?|advertising|sponsored content|paid (?:content|post)|promoted(?: content)?|"
    r"(?:source|sources|additional reporting(?: by)?|reporting by|editing by|compiled by)"
    r"\s*[:|-]?\s*.{1,60}"
    r")[\s.:!*]*$",
    re.IGNORECASE,
)
# What a site says to every reader of every page (about their browser, about cookies): never
# the article, however long.
SITE_NOTICE = re.compile(
    r"\b(?:your (?:current |web )?browser|(?:upgrad|updat)(?:e|ing) (?:your|to a (?:newer|modern)) "
    r"(?:web )?browser|best viewed (?:in|with|using)|enabl(?:e|ing) (?:javascript|cookies|"
    r"style ?sheets)|javascript is (?:disabled|required|turned off|not enabled)|browser (?:is )?"
    r"(?:not supported|unsupported|outdated|out of date)|(?:turn|switch) on javascript|"
    r"(?:this|our) (?:web ?)?site uses cookies|we use cookies|use of cookies|"
    r"by (?:continuing to (?:use|browse)|using) (?:this|our) (?:web ?)?site)\b",
    re.IGNORECASE,
)
# What a site says to sell itself between or after paragraphs: follow us, listen live, get the
# app, sign up for the newsletter, send us a tip.
PROMO_TEXT = re.compile(
    r"\b(?:follow (?:us|him|her|them|me)(?: on| @)|like us on|find us on|join us on|"
    r"listen live|watch live|get the (?:[\w.-]+ ){0,3}app|download (?:the|our) "
    r"(?:[\w.-]+ ){0,3}app|sign up for (?:our|the) .{0,40}newsletters?|"
    r"subscribe to .{0,40}newsletters?|newsletters? (?:sign-?up|delivered)|"
    r"have a (?:news )?(?:tip|story)\?|send us (?:a|your) (?:tips?|story|stories|photos?)|"
    r"get the latest .{0,40}in your inbox|"
    r"use (?:the |our )?(?:promo |discount |coupon )?code)(?!\w)",
    re.IGNORECASE,
)
# An image's caption standing as a line of text, told by its credit: "... (Image: GETTY)",
# "... [File: Reuters]", "Natalie Naccache | Bloomberg | Getty Images".
CAPTION_CREDIT = re.compile(
    r"(?:[(\[](?:image|images|photo|photos|picture|pic|file|credit|video)\s*:\s*[^)\]]{1,60}[)\]]"
    r"|(?:^|[|/]\s*)(?:getty images|afp|reuters|ap photo|associated press|epa|shutterstock|"
    r"alamy|pa (?:images|wire)|bloomberg|istock(?:photo)?)\s*)$",
    re.IGNORECASE,
)

# "READ MORE: <a>Another story</a>" lines injected between paragraphs.
RECIRCULATION_LABEL = re.compile(
    r"^\s*(?:read more|read also|also read|more|related|see also|see more|recommended|watch|"
    r"watch more|listen|must read|don'?t miss|trending|read next|more on this(?: story)?|"
    r"related (?:article|story|coverage)|more from .{1,40}|also on .{1,40}|next)"
    r"\s*[:|»›>]",
    re.IGNORECASE,
)
# A section under one of these headings is never narrated, heading and content alike.
NON_ARTICLE_HEADING = re.compile(
    r"^(?:references?|notes|footnotes|notes and references|citations|sources|bibliography|"
    r"works cited|further reading|see also|external links|"
    r"related(?: (?:articles|posts|stories|links|reading|content|coverage|topics|news))?|"
    r"more (?:stories|articles|news)(?: (?:from|on|in|like this) .{0,40})?|"
    r"more (?:from|on|in) .{1,40}|you (?:may|might) also (?:like|enjoy)|"
    r"recommended(?: for you| reading| articles| stories| from .{1,40})?|read (?:more|next)|"
    r"about the author|comments?|\d+ (?:comments?|responses?|replies)|"
    r"leave a (?:comment|reply)|join the (?:conversation|discussion)|"
    r"popular (?:posts|stories|articles)|most (?:read|popular)|trending(?: now)?|"
    r"latest (?:news|posts|stories))[\s.:!]*$",
    re.IGNORECASE,
)
HIDDEN_CLASSES = frozenset({"hidden", "d-none", "is-hidden", "u-hidden", "hide", "invisible"})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


# --- predicates on one element -----------------------------------------------------------------


def is_body_marker(el: Element) -> bool:
    """Marked as the article body by the page itself (itemprop=articleBody, .entry-content...)."""
    return el.get("itemprop") == "articleBody" or _names_body(tokens(el))


@lru_cache(maxsize=8192)
def _names_body(names: tuple[str, ...]) -> bool:
    return bool(BODY_MARKERS.search(" ".join(names)))


@lru_cache(maxsize=8192)
def chrome_token(token: str) -> str | None:
    """ "strong" for a class or id token naming site furniture ("post-share-bar",
    "ez-toc-container"), "weak" for one naming a small label ("wp-caption", "author-box"),
    else None."""
    words = split_token(token)
    if _CHROME_PHRASE.search(token) or not CHROME_WORDS.isdisjoint(words):
        return "strong"
    if _WEAK_CHROME_PHRASE.search(token):
        return "weak"
    return "weak" if not WEAK_CHROME_WORDS.isdisjoint(words) else None


def chrome_kind(el: Element) -> str | None:
    """ "strong" for a site-furniture element by its tag, role, or class/id words; "weak" for
    one whose class/id words name a small label (see WEAK_CHROME_WORDS); else None."""
    tag = el.tag
    if tag in ("html", "body", "main", "article") or el.get(MARK) in ("question", "keep"):
        return None  # (an accordion's "accordion-button" question is not chrome)
    if is_body_marker(el):
        return None
    if tag in CHROME_TAGS or (el.get("role") or "").lower() in CHROME_ROLES:
        return "strong"
    kinds = {chrome_token(token) for token in tokens(el)}
    return "strong" if "strong" in kinds else "weak" if "weak" in kinds else None


def looks_like_chrome(el: Element) -> bool:
    """A site-furniture element by its tag, role, or class/id words."""
    return chrome_kind(el) is not None


def is_hidden(el: Element) -> bool:
    """Hidden from readers: the hidden attribute, aria-hidden, display:none / visibility:hidden
    inline, or a utility class that does the same."""
    attributes = el.attrib
    if not attributes:
        return False
    if "hidden" in attributes or (attributes.get("aria-hidden") or "").lower() == "true":
        return True
    style = attributes.get("style")
    if style and _HIDDEN_STYLE.search(style):
        return True
    classes = attributes.get("class")
    return bool(classes) and _has_hidden_class(classes)


@lru_cache(maxsize=8192)
def _has_hidden_class(classes: str) -> bool:
    return not HIDDEN_CLASSES.isdisjoint(classes.lower().split())


def link_chars(el: Element) -> int:
    return sum(len(element_text(a)) for a in el.iter("a"))


_TAXONOMY_PATH = re.compile(r"/(?:tags?|topics?|categor(?:y|ies)|section|keywords?)/", re.I)


def is_taxonomy_link(el: Element) -> bool:
    """A block that is only a link to a tag, topic or category page (a post's tag chips)."""
    links = list(islice((a for a in el.iter("a") if a.get("href") is not None), 2))
    return (
        len(links) == 1
        and bool(_TAXONOMY_PATH.search(links[0].get("href") or ""))
        and link_chars(el) >= len(element_text(el))
    )


def is_link_list(el: Element) -> bool:
    """A list whose every item is nothing but a link: a table of contents, "related stories",
    a tag list. Read aloud it is a string of headlines, not the article."""
    if el.tag not in ("ul", "ol"):
        return False
    items = [li for li in el.iterchildren("li") if element_text(li)]
    if len(items) < THRESHOLDS.link_list_min_items:
        return False
    return all(
        next(li.iter("a"), None) is not None and link_chars(li) >= 0.9 * len(element_text(li))
        for li in items
    )


def is_teaser(el: Element) -> bool:
    """A card pointing to another page: a headline link, perhaps with a kicker or a one-line
    blurb, and nothing more."""
    text = _short_text(el, THRESHOLDS.teaser_max_chars)
    if not text:
        return False
    links = [a for a in el.iter("a") if not (a.get("href") or "#").startswith("#")]
    if not links:
        return False
    linked = sum(len(element_text(a)) for a in links)
    headline = max(len(element_text(a)) for a in links)
    # a card's picture (or the whole card) is a link with no words of its own
    pictured = any(not raw_text(a).strip() for a in links)
    return (
        linked >= 0.5 * len(text)
        or headline >= THRESHOLDS.teaser_title_min_chars
        or (pictured and len(text) <= THRESHOLDS.max_boilerplate_chars)
    )


def is_teaser_list(el: Element) -> bool:
    """A run of cards pointing elsewhere ("Our latest stories", "More from ...", a related-story
    module between paragraphs): most of the element's children are teasers, and it holds no
    paragraph of its own. Read aloud it is a string of headlines and blurbs, not the article."""
    if len(el) < THRESHOLDS.link_list_min_items or next(el.iter("a"), None) is None:
        return False
    items = [child for child in el if raw_text(child).strip()]
    if len(items) < THRESHOLDS.link_list_min_items:
        return False
    teasers = sum(1 for item in items if is_teaser(item))
    return teasers >= THRESHOLDS.teaser_list_share * len(items) and teasers >= (
        THRESHOLDS.link_list_min_items
    )


def is_link_line(el: Element) -> bool:
    """A block that is nothing but a link with a headline's length: another story's title
    standing between paragraphs."""
    if el.tag not in LINK_LINE_TAGS:
        return False
    text = _short_text(el, THRESHOLDS.teaser_max_chars)
    if not text or len(text) < THRESHOLDS.teaser_title_min_chars:
        return False
    return link_chars(el) >= 0.9 * len(text)


LINK_LINE_TAGS = frozenset(("p", "div", "li", "ul", "ol", "h2", "h3", "h4", "h5", "h6"))


def mark_link_runs(root: Element) -> None:
    """Runs of link lines (three or more siblings in a row, nothing with text between them): a
    "you may also like" list written as paragraphs. Marked weak: a post may be such a list."""
    for parent in list(root.iter()):
        run: list[Element] = []
        for child in [*parent, None]:
            if child is not None and is_link_line(child):
                run.append(child)
                continue
            if child is not None and not raw_text(child).strip():
                continue  # an empty ad slot between two lines does not end the run
            if len(run) >= THRESHOLDS.link_list_min_items:
                for line in run:
                    line.set(WEAK, LINKS)
            run = []


_MARKER_TEXT = re.compile(
    r"[\[(]?\s*(?:\d{1,3}(?:\s*[,–-]\s*\d{1,3})*|[a-z]|[ivx]{1,4}|[*†‡§¶]+|"
    r"(?:note|nb|n)\s*\d{1,3})\s*[\])]?",
    re.IGNORECASE,
)
FOOTNOTE_WORDS = {"reference", "footnote", "fn", "cite", "citation", "noteref", "ref"}


def is_footnote_marker(el: Element) -> bool:
    """A footnote or citation marker ("[1]", a superscript link to "#cite_note-1", Substack's
    footnote anchors). A superscript that is part of the text ("1<sup>st</sup>", "m<sup>2</sup>")
    is not one."""
    raw = raw_text(el)
    if (
        len(raw) > 4 * THRESHOLDS.marker_max_chars
        and len(raw.strip()) > THRESHOLDS.marker_max_chars
    ):
        return False  # (a link's words, not a marker: the common case, told cheaply)
    text = clean_text(raw)
    if el.tag == "sup" and not text:
        return True
    if not text or len(text) > THRESHOLDS.marker_max_chars:
        return False
    if re.fullmatch(r"\[[^\]]+\]", text) and el.tag in ("sup", "a", "span"):
        return True
    link = el if el.tag == "a" else next((a for a in el.iter("a") if a.get("href")), None)
    to_anchor = link is not None and (link.get("href") or "").startswith("#")
    marked = bool(FOOTNOTE_WORDS & class_words(el))
    if el.tag == "sup":
        return bool(re.fullmatch(r"[*†‡§¶]+", text)) or (
            (to_anchor or marked) and bool(_MARKER_TEXT.fullmatch(text))
        )
    if el.tag == "a":
        return (to_anchor or marked) and bool(re.fullmatch(r"[\[(]?\d{1,3}[\])]?", text))
    return False


# --- applying them -----------------------------------------------------------------------------


def drop_tags(root: Element, tags: Iterable[str]) -> None:
    for el in list(root.iter(*tags)):
        if el is not root:
            drop_tree(el)


def drop_footnote_markers(root: Element) -> None:
    for el in list(root.iter("sup", "a")):
        if is_footnote_marker(el):
            drop_tree(el)


#: Class/id words of a comment thread: the one kind of chrome that can hold more prose than the
#: article it follows, so it never counts as holding the article.
COMMENT_WORDS = frozenset({"comment", "comments", "respond", "disqus", "discussion", "replies"})


def article_holders(
    root: Element, keep: Iterable[Element] = (), measured: Prose | None = None
) -> set[Element]:
    """The safety valve for chrome rules: elements that must stay even if they look like chrome
    (a theme's "share-enabled" article wrapper, a WordPress post classed with its category
    "podcast", an ASP.NET page's all-enclosing <form>). Those are a site-pinned body, a semantic
    body marker that holds real prose, the elements holding most of the page's prose (unless a
    comment thread), and their ancestors."""
    prose = (measured or Prose.of(root)).totals
    total = max(prose.get(root, 0), 1)
    share = THRESHOLDS.max_chrome_share_of_prose
    found = list(keep)
    for el, chars in prose.items():
        marked = chars >= THRESHOLDS.body_marker_min_chars and is_body_marker(el)
        most = chars / total > share and COMMENT_WORDS.isdisjoint(class_words(el))
        if marked or most:
            found.append(el)
    holders = set(found)
    for el in found:
        holders.update(el.iterancestors())
    return holders


def _short_text(el: Element, limit: int) -> str | None:
    """The element's text when it is at most `limit` characters long, else None, without
    cleaning the text of every large container (its letters alone tell it is too long)."""
    raw = raw_text(el)
    letters = len(raw) - raw.count(" ") - raw.count("\n") - raw.count("\t") - raw.count("\r")
    if letters > limit + THRESHOLDS.marker_slack_chars:
        return None
    text = clean_text(raw)
    return text if len(text) <= limit else None


def is_boilerplate_text(text: str) -> bool:
    return bool(BOILERPLATE_TEXT.match(text))


def is_recirculation_text(el: Element, text: str) -> bool:
    """A "Read more: <link>" line between paragraphs, pointing elsewhere."""
    if not RECIRCULATION_LABEL.match(text):
        return False
    return link_chars(el) >= 0.5 * len(RECIRCULATION_LABEL.sub("", text))


def drop_unread(root: Element) -> None:
    """Remove what is never narrated, whoever finds the body: non-content tags (controls,
    captions, dialogs), footnote markers, and hidden elements (FAQ answers excepted: a collapsed
    answer is still the answer)."""
    drop_tags(root, NEVER_CONTENT_TAGS)
    drop_footnote_markers(root)
    for el in [el for el in root.iter() if is_hidden(el) and el.get(MARK) != "answer"]:
        drop_tree(el)


def _mentions(text: str, words: tuple[str, ...]) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in words)


#: Words every site notice / promotion has (a cheap test before the full pattern's).
_NOTICE_WORDS = ("browser", "javascript", "cookie", "style", "site")
_PROMO_WORDS = ("follow", "like us", "find us", "join us", "live", "app", "newsletter", "tip",
                "story", "stories", "photo", "inbox", "code")  # fmt: skip


def is_site_notice(text: str) -> bool:
    """ "This page is best viewed in an up-to-date web browser...", "Please enable JavaScript",
    "This website uses cookies. By continuing to use it..."."""
    return _mentions(text, _NOTICE_WORDS) and bool(SITE_NOTICE.search(text))


def is_promotion(text: str) -> bool:
    """ "Follow us on Twitter", "Get the app", "Sign up for our newsletter"."""
    return (
        len(text) <= THRESHOLDS.promo_max_chars
        and _mentions(text, _PROMO_WORDS)
        and bool(PROMO_TEXT.search(text))
    )


def is_caption_text(text: str) -> bool:
    """A picture's caption or credit left as a line of text: it ends with the credit."""
    return len(text) <= THRESHOLDS.caption_max_chars and bool(CAPTION_CREDIT.search(text))


def is_shouted_link(el: Element, text: str) -> bool:
    """A line in capitals that is mostly a link: a promotion or another story's headline
    ("READ MORE ON FOX BUSINESS BY CLICKING HERE", "CO-FOUNDER 'PROUD' OF ...")."""
    return (
        text.upper() == text != text.lower()  # capitals, and no lower-case letter
        and len(text.split()) >= 3
        and link_chars(el) >= 0.5 * len(text)
    )


def drop_boilerplate(root: Element) -> None:
    """Remove boilerplate, recirculation and promotion lines ("Share this", "Read more: ...",
    "Follow us on ...") and site notices (browser, cookies). These are rules on a block's own
    words: no element holding an article says only that."""
    limit = THRESHOLDS.max_boilerplate_chars
    for el in list(root.iter(*BLOCK_TAGS)):
        text = _short_text(el, THRESHOLDS.notice_max_chars) if el is not root else None
        if text is None:
            continue
        short = len(text) <= limit
        boilerplate = short and (
            is_boilerplate_text(text)
            or is_recirculation_text(el, text)
            or is_shouted_link(el, text)
        )
        if boilerplate or is_promotion(text) or is_caption_text(text) or is_site_notice(text):
            drop_tree(el)


def drop_chrome(root: Element, holders: set[Element]) -> None:
    """Remove site chrome: elements recognised by tag, role or class/id words, link lists and
    tag chips; mark weak chrome (WEAK_CHROME_WORDS). The elements holding the article
    (`holders`) are never removed or marked as chrome."""
    for el in list(root.iter()):
        if el in holders:
            continue
        kind = chrome_kind(el)
        if kind == "strong":
            drop_tree(el)
        elif kind == "weak":
            el.set(WEAK, LABEL)
    for el in list(root.iter("ul", "ol")):
        if el not in holders and is_link_list(el):
            drop_tree(el)
    for el in list(root.iter("div", "section", "ul", "ol", "aside")):
        # weak, not dropped: a post may itself be a list of links ("the week in review")
        if el not in holders and WEAK not in el.attrib and is_teaser_list(el):
            el.set(WEAK, LINKS)
    mark_link_runs(root)
    for el in list(root.iter(*BLOCK_TAGS)):
        if el not in holders and el is not root and is_taxonomy_link(el):
            drop_tree(el)
    for link in list(root.iter("a")):  # tag chips in a row: <a href="/tag/x">X</a>
        if link.get("href") is None or not is_taxonomy_link(link):
            continue
        block = block_parent(link)
        if block is not None and link_chars(block) >= len(element_text(block)):
            drop_tree(link)


def _starts_section_at(el: Element, level: int) -> bool:
    """`el` is, or holds, a heading of `level` or higher (which ends a section of `level`)."""
    if el.tag in HEADING_TAGS:
        return heading_level(el) <= level
    return next(el.iter(*HEADING_TAGS[:level]), None) is not None


def drop_non_article_sections(root: Element) -> None:
    """References, notes, "See also", "External links", related links, comments: the heading
    and everything after it up to the next heading of the same or a higher level."""
    for heading in list(root.iter(*HEADING_TAGS)):
        if not within(heading, root):
            continue
        text = element_text(heading)
        if not NON_ARTICLE_HEADING.match(text):
            continue
        level = heading_level(heading)
        start = heading  # climb out of wrappers that hold only the heading (wiki's mw-heading)
        while (
            start.getparent() is not None
            and start.getparent().tag not in ("body", "html")
            and same_text(element_text(start.getparent()), text)
        ):
            start = start.getparent()
        doomed = [start]
        for sibling in start.itersiblings():
            if _starts_section_at(sibling, level):
                # the text before the next section's heading is still part of the doomed one
                break
            doomed.append(sibling)
        parent = start.getparent()
        for node in doomed:
            node.tail = None  # the text between dropped siblings belongs to the dropped section
            if parent is not None:
                parent.remove(node)


def is_pullquote_candidate(el: Element) -> bool:
    found = class_words(el)
    return el.tag == "blockquote" or "pullquote" in found or {"pull", "quote"} <= found


def drop_pullquotes(root: Element, elements: list[Element] | None = None) -> None:
    """Quotations that repeat the article's own text (pull-quotes): a <blockquote> or an element
    classed as a pull-quote whose words mostly appear in the paragraphs around it. `elements`:
    those of `root`, when listed already (an element removed since is passed over)."""
    listed = elements if elements is not None else root.iter()
    candidates = [el for el in listed if is_pullquote_candidate(el) and within(el, root)]
    if not candidates:
        return
    inside = {d for el in candidates for d in el.iter()}
    body: set[tuple[str, ...]] = set()
    for p in root.iter("p", "li", "dd"):
        if p not in inside:
            body |= shingles(element_text(p))
    for el in candidates:
        if not within(el, root):
            continue
        quote = " ".join(_quote_text(el))
        runs = shingles(quote)
        if len(words(quote)) < 4:
            continue
        if len(runs & body) >= THRESHOLDS.pullquote_repeat_share * len(runs):
            drop_tree(el)


def _quote_text(el: Element) -> list[str]:
    """A quotation's words, less its attribution (<cite>, <footer>)."""
    parts: list[str] = [el.text or ""]
    stack = list(reversed(el))
    while stack:
        node = stack.pop()
        if isinstance(node, str):  # a tail, queued after its element's content
            parts.append(node)
            continue
        if node.tail:
            stack.append(node.tail)
        if node.tag in ("cite", "footer"):
            continue
        parts.append(node.text or "")
        stack.extend(reversed(node))
    return parts


def drop_media_captions(root: Element) -> None:
    """A <figure> holding only media and its caption or credit (images are not narrated; a
    figure that wraps a table, a quotation, code or a list is read). Its picture stays."""
    for figure in list(root.iter("figure")):
        if not within(figure, root):
            continue
        if next(figure.iter("table", "blockquote", "pre", "ul", "ol", "dl"), None) is not None:
            continue
        paragraphs = sum(len(element_text(p)) for p in figure.iter("p"))
        if paragraphs <= THRESHOLDS.max_boilerplate_chars:
            keep_picture(figure)
            drop_tree(figure)
