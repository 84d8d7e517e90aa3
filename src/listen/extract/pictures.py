"""The article's own pictures: which `<img>` of the page may be a chapter's art, and where it is.

Pictures are marked early (before chrome and figures are dropped): each qualifying `<img>`
gets the attribute `PICTURE`, its resolved address. A figure dropped as a caption leaves
its picture in its place; chrome dropped as a whole (a sidebar, an ad slot) takes its pictures
with it; the section walk then finds each picture where it stands and the first ones of a
section become its `images`.

What never qualifies: icons, avatars, logos, badges, ads and tracking pixels, told by their
declared size (under `MIN_DECLARED_PX`), by a word of their class, id, alt text or path
(`DECORATIVE_WORDS`), or by being hidden from assistive technology; SVGs (Pillow cannot read
them); and any address that is not http(s) or a relative path (data:, file:, javascript:...).
Actual sizes are checked when the picture is read (listen.art).
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from listen.extract.text import Element

#: The attribute a qualifying picture keeps: its address, resolved.
PICTURE = "data-listen-picture"
#: A picture declared smaller than this (width or height) is an icon, an avatar or a pixel.
MIN_DECLARED_PX = 100
#: Words of a class, id, alt text or file name that say a picture is not the article's.
DECORATIVE_WORDS = frozenset({
    "avatar", "avatars", "gravatar", "icon", "icons", "favicon", "logo", "logos", "emoji",
    "badge", "ad", "ads", "advert", "advertisement", "sponsor", "sponsored", "pixel",
    "tracking", "tracker", "spinner", "loader", "placeholder", "sprite", "button", "btn",
    "share", "social",
})  # fmt: skip
#: Where lazy-loading scripts keep the real address (src is then a placeholder).
LAZY_ATTRIBUTES = ("data-src", "data-lazy-src", "data-original", "data-url")
_WORDS = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def page_base(source: str, declared: str | None) -> str | None:
    """The address relative references are resolved against: the page's own when it was
    fetched (and its <base href> on it), else an absolute http(s) <base href>, else None (a
    local page: references stay relative to its folder)."""
    fetched = source if _is_http(source) else None
    if declared:
        joined = urljoin(fetched, declared.strip()) if fetched else declared.strip()
        if _is_http(joined):
            return joined
    return fetched


def resolve(reference: str, base: str | None) -> str | None:
    """An http(s) address, or a relative path (a local page's, with no base), or None."""
    reference = reference.strip()
    if not reference or reference.startswith("#"):
        return None
    if base is not None:
        resolved = urljoin(base, reference)
        return resolved if _is_http(resolved) else None
    if _is_http(reference):
        return reference
    parts = urlsplit(reference)
    if parts.scheme or parts.netloc or not parts.path:  # (file:, data:, //host/...: never)
        return None
    return reference


def _is_http(address: str) -> bool:
    parts = urlsplit(address)
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def _declared_px(value: str | None) -> int | None:
    match = re.match(r"\s*(\d+)\s*(?:px)?\s*$", value or "")
    return int(match.group(1)) if match else None


def _words(*texts: str | None) -> set[str]:
    return {w for text in texts if text for w in _WORDS.split(_CAMEL.sub("-", text).lower()) if w}


def _address(img: Element) -> str | None:
    for name in (*LAZY_ATTRIBUTES, "src"):
        value = (img.get(name) or "").strip()
        if value and not value.lower().startswith("data:"):
            return value
    srcset = (img.get("srcset") or img.get("data-srcset") or "").strip()
    return srcset.split(",")[0].split()[0] if srcset else None


def is_decorative(img: Element, address: str) -> bool:
    """An icon, avatar, logo, ad or pixel rather than a picture of the article."""
    if any((px := _declared_px(img.get(side))) is not None and px < MIN_DECLARED_PX
           for side in ("width", "height")):  # fmt: skip
        return True
    if (img.get("aria-hidden") or "").lower() == "true" or img.get("role") == "presentation":
        return True
    parent = img.getparent()
    holder = parent.get("class") if parent is not None and parent.tag in ("a", "picture") else None
    path = urlsplit(address).path
    name = path.rsplit("/", 1)[-1].rsplit(".", 1)
    if len(name) == 2 and name[1].lower() in ("svg", "svgz", "ico"):
        return True
    words = _words(img.get("class"), img.get("id"), img.get("alt"), holder, path.rsplit(".", 1)[0])
    return bool(words & DECORATIVE_WORDS)


def mark_pictures(page: Element, base: str | None) -> None:
    """Mark the page's qualifying pictures (see the module's docstring)."""
    for img in page.iter("img"):
        address = _address(img)
        resolved = resolve(address, base) if address else None
        if resolved is not None and not is_decorative(img, address or ""):
            img.set(PICTURE, resolved)


def keep_picture(figure: Element) -> None:
    """Before `figure` is dropped as media and caption: its first picture stays in its place."""
    picture = next((img for img in figure.iter("img") if img.get(PICTURE)), None)
    if picture is not None:
        figure.addprevious(figure.makeelement("img", {PICTURE: picture.get(PICTURE) or ""}))
