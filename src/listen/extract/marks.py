"""Our own annotations on the parsed tree, set by the structure rules (FAQ, live blog) and read
by the chrome rules and the section walk."""

from __future__ import annotations

#: The attribute: "question", "answer", "entry", "skip" (already read as a title), "keep" (part
#: of a question).
MARK = "data-listen"
#: A live-blog entry's chapter title and time.
ENTRY_TITLE = "data-listen-title"
ENTRY_TIME = "data-listen-time"
#: Weak chrome (see chrome.WEAK_CHROME_WORDS): left out of listen's own choice of the body. Its
#: value says how weak: "label" (a caption, a byline: the extractors' vote may read it back)
#: or "links" (a run of links to other stories: read only when a page has nothing else).
WEAK = "data-listen-weak"
LABEL = "label"
LINKS = "links"
