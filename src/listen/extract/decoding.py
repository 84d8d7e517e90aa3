"""Bytes -> text -> tree: the page's charset as a browser would read it, then lxml's HTML parser
(libxml2 repairs unclosed tags, stray end tags and nested <p> the way browsers do)."""

from __future__ import annotations

import re
import stat
from pathlib import Path

from lxml import etree

from listen.errors import ListenError
from listen.extract.text import Element, separate_blocks
from listen.fetch import MAX_PAGE_BYTES

_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
# <meta charset="x">, <meta http-equiv="Content-Type" content="text/html; charset=x"> (either
# attribute order) and <?xml encoding="x"?>.
_DECLARED_CHARSET = re.compile(
    rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([a-z0-9_.:-]+)"""
    rb"""|<\?xml\b[^>]*?encoding\s*=\s*["']([a-z0-9_.:-]+)""",
    re.IGNORECASE,
)
#: How far into the page a charset declaration is looked for (long heads are common).
CHARSET_SCAN_BYTES = 65536


#: The WHATWG Encoding Standard's encodings (https://encoding.spec.whatwg.org/#names-and-labels)
#: with their labels. A page may name only these: a label browsers do not know (or a
#: Python-only codec such as "unicode_escape") is ignored. As the HTML standard says, a UTF-16
#: label in a byte-oriented declaration means UTF-8, and the ISO-8859-1 and ASCII labels mean
#: windows-1252 (0x80-0x9F are curly quotes and dashes, not control characters).
_ENCODING_LABELS: dict[str, str] = {
    "utf-8": (
        "unicode-1-1-utf-8 unicode11utf8 unicode20utf8 utf-8 utf8 "
        "x-unicode20utf8 unicodefffe utf-16be csunicode iso-10646-ucs-2 ucs-2 "
        "unicode unicodefeff utf-16 utf-16le"
    ),
    "ibm866": "866 cp866 csibm866 ibm866",
    "iso-8859-2": (
        "csisolatin2 iso-8859-2 iso-ir-101 iso8859-2 iso88592 iso_8859-2 iso_8859-2:1987 l2 latin2"
    ),
    "iso-8859-3": (
        "csisolatin3 iso-8859-3 iso-ir-109 iso8859-3 iso88593 iso_8859-3 iso_8859-3:1988 l3 latin3"
    ),
    "iso-8859-4": (
        "csisolatin4 iso-8859-4 iso-ir-110 iso8859-4 iso88594 iso_8859-4 iso_8859-4:1988 l4 latin4"
    ),
    "iso-8859-5": (
        "csisolatincyrillic cyrillic iso-8859-5 iso-ir-144 iso8859-5 iso88595 "
        "iso_8859-5 iso_8859-5:1988"
    ),
    "iso-8859-6": (
        "arabic asmo-708 csiso88596e csiso88596i csisolatinarabic ecma-114 "
        "iso-8859-6 iso-8859-6-e iso-8859-6-i iso-ir-127 iso8859-6 iso88596 "
        "iso_8859-6 iso_8859-6:1987"
    ),
    "iso-8859-7": (
        "csisolatingreek ecma-118 elot_928 greek greek8 iso-8859-7 iso-ir-126 "
        "iso8859-7 iso88597 iso_8859-7 iso_8859-7:1987 sun_eu_greek"
    ),
    "iso-8859-8": (
        "csiso88598e csisolatinhebrew hebrew iso-8859-8 iso-8859-8-e iso-ir-138 "
        "iso8859-8 iso88598 iso_8859-8 iso_8859-8:1988 visual csiso88598i "
        "iso-8859-8-i logical"
    ),
    "iso-8859-10": "csisolatin6 iso-8859-10 iso-ir-157 iso8859-10 iso885910 l6 latin6",
    "iso-8859-13": "iso-8859-13 iso8859-13 iso885913",
    "iso-8859-14": "iso-8859-14 iso8859-14 iso885914",
    "iso-8859-15": "csisolatin9 iso-8859-15 iso8859-15 iso885915 iso_8859-15 l9",
    "iso-8859-16": "iso-8859-16",
    "koi8-r": "cskoi8r koi koi8 koi8-r koi8_r",
    "koi8-u": "koi8-ru koi8-u",
    "macintosh": "csmacintosh mac macintosh x-mac-roman",
    "x-mac-cyrillic": "x-mac-cyrillic x-mac-ukrainian",
    "windows-874": "dos-874 iso-8859-11 iso8859-11 iso885911 tis-620 windows-874",
    "windows-1250": "cp1250 windows-1250 x-cp1250",
    "windows-1251": "cp1251 windows-1251 x-cp1251",
    "windows-1252": (
        "ansi_x3.4-1968 ascii cp1252 cp819 csisolatin1 ibm819 iso-8859-1 "
        "iso-ir-100 iso8859-1 iso88591 iso_8859-1 iso_8859-1:1987 l1 latin1 "
        "us-ascii windows-1252 x-cp1252"
    ),
    "windows-1253": "cp1253 windows-1253 x-cp1253",
    "windows-1254": (
        "cp1254 csisolatin5 iso-8859-9 iso-ir-148 iso8859-9 iso88599 iso_8859-9 "
        "iso_8859-9:1989 l5 latin5 windows-1254 x-cp1254"
    ),
    "windows-1255": "cp1255 windows-1255 x-cp1255",
    "windows-1256": "cp1256 windows-1256 x-cp1256",
    "windows-1257": "cp1257 windows-1257 x-cp1257",
    "windows-1258": "cp1258 windows-1258 x-cp1258",
    "gb18030": (
        "chinese csgb2312 csiso58gb231280 gb2312 gb_2312 gb_2312-80 gbk iso-ir-58 x-gbk gb18030"
    ),
    "big5": "big5 big5-hkscs cn-big5 csbig5 x-x-big5",
    "euc-jp": "cseucpkdfmtjapanese euc-jp x-euc-jp",
    "iso-2022-jp": "csiso2022jp iso-2022-jp",
    "shift_jis": "csshiftjis ms932 ms_kanji shift-jis shift_jis sjis windows-31j x-sjis",
    "euc-kr": (
        "cseuckr csksc56011987 euc-kr iso-ir-149 korean ks_c_5601-1987 "
        "ks_c_5601-1989 ksc5601 ksc_5601 windows-949"
    ),
}
WHATWG_LABELS: dict[str, str] = {
    label: name for name, labels in _ENCODING_LABELS.items() for label in labels.split()
}
#: The Python codec that decodes each WHATWG encoding as browsers do.
PYTHON_CODECS: dict[str, str] = {
    "utf-8": "utf-8",
    "ibm866": "cp866",
    "iso-8859-2": "iso8859-2",
    "iso-8859-3": "iso8859-3",
    "iso-8859-4": "iso8859-4",
    "iso-8859-5": "iso8859-5",
    "iso-8859-6": "iso8859-6",
    "iso-8859-7": "iso8859-7",
    "iso-8859-8": "iso8859-8",
    "iso-8859-10": "iso8859-10",
    "iso-8859-13": "iso8859-13",
    "iso-8859-14": "iso8859-14",
    "iso-8859-15": "iso8859-15",
    "iso-8859-16": "iso8859-16",
    "koi8-r": "koi8-r",
    "koi8-u": "koi8-u",
    "macintosh": "mac-roman",
    "x-mac-cyrillic": "mac-cyrillic",
    "windows-874": "cp874",
    "windows-1250": "cp1250",
    "windows-1251": "cp1251",
    "windows-1252": "cp1252",
    "windows-1253": "cp1253",
    "windows-1254": "cp1254",
    "windows-1255": "cp1255",
    "windows-1256": "cp1256",
    "windows-1257": "cp1257",
    "windows-1258": "cp1258",
    "gb18030": "gb18030",
    "big5": "big5hkscs",
    "euc-jp": "euc-jp",
    "iso-2022-jp": "iso2022-jp",
    "shift_jis": "cp932",
    "euc-kr": "cp949",
}


def declared_charset(data: bytes) -> str | None:
    """The WHATWG name of the charset the page declares (meta charset, http-equiv, XML
    declaration), or None when it declares none or one browsers do not know."""
    match = _DECLARED_CHARSET.search(data[:CHARSET_SCAN_BYTES])
    if not match:
        return None
    label = (match.group(1) or match.group(2)).decode("ascii", "replace").lower().strip(".:")
    return WHATWG_LABELS.get(label)


def decode_html(data: bytes | str) -> str:
    """The page's text: a BOM wins, then the declared charset, then UTF-8, then windows-1252
    (the usual charset of an undeclared legacy page). A declaration that does not fit the bytes
    is ignored. Deterministic: no statistical guessing that would differ between installs."""
    if isinstance(data, str):
        return data
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    declared = declared_charset(data)
    for encoding in dict.fromkeys((PYTHON_CODECS.get(declared or ""), "utf-8", "cp1252")):
        if encoding:
            try:
                return data.decode(encoding)
            except UnicodeError:
                continue
    return data.decode("cp1252", errors="replace")


#: Deeper than this and a page is refused: real articles nest a few dozen levels, and deeper
#: trees are either generated garbage or an attack on the rules' cost. (libxml2 itself stops
#: nesting at 2048 levels with huge_tree, and below 256 without it: too shallow for some real
#: page builders.)
MAX_NESTING_DEPTH = 1000


#: C0 controls but tab, newline and carriage return: never text, and not allowed in an lxml
#: tree's strings.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: True when the tree holds an element more than MAX_NESTING_DEPTH levels below <html> (a path
#: of child steps: libxml2 walks it level by level, without Python's per-element cost).
_TOO_DEEP = etree.XPath(f"boolean({'/*' * (MAX_NESTING_DEPTH + 2)})")


def _empty_document() -> Element:
    return etree.fromstring("<html><head></head><body></body></html>", etree.HTMLParser())


def parse_html(data: bytes | str) -> Element:
    """Decode, then parse with lxml: the <html> element of a repaired tree, with comments and
    processing instructions left out, ready for reading (`separate_blocks`). A page nested
    deeper than MAX_NESTING_DEPTH, or too large for memory, is a ListenError."""
    text = decode_html(data)
    if _CONTROLS.search(text):
        text = _CONTROLS.sub(" ", text)
    # Handing libxml2 UTF-8 bytes with the encoding fixed means an XML declaration or a stale
    # <meta charset> inside the page cannot make it decode the text a second time.
    # (A plain etree parser, not lxml.html's: its Python-level element class lookup would cost
    # more than all the rules together.)
    parser = etree.HTMLParser(
        encoding="utf-8", remove_comments=True, remove_pis=True, huge_tree=True
    )
    try:
        root = etree.fromstring(text.encode("utf-8", "replace"), parser=parser)
    except etree.XMLSyntaxError:  # nothing but whitespace
        root = None
    except MemoryError:
        raise ListenError("page is too large to read") from None
    if root is None:
        root = _empty_document()
    if _TOO_DEEP(root):
        raise ListenError(
            f"page is too deeply nested (over {MAX_NESTING_DEPTH} levels of elements)"
        )
    separate_blocks(root)
    return root


def read_page(path: Path, max_bytes: int = MAX_PAGE_BYTES) -> bytes:
    """A local page's bytes; one larger than `max_bytes` (the same cap as fetched pages) is
    refused before it is read."""
    try:
        with path.open("rb") as handle:
            info = Path(path).stat()
            if stat.S_ISREG(info.st_mode) and info.st_size > max_bytes:
                raise ListenError(_too_large(path, max_bytes))
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise ListenError(f"page not found: {path}") from None
    except IsADirectoryError:
        raise ListenError(f"page is a directory, not an HTML file: {path}") from None
    except OSError as exc:
        raise ListenError(f"cannot read page {path}: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise ListenError(_too_large(path, max_bytes))
    return data


def _too_large(path: Path, max_bytes: int) -> str:
    return f"page too large (over {max_bytes // (1024 * 1024)} MB): {path}"


def serialize(root: Element) -> str:
    """The tree as HTML again (for the extractors that parse a page themselves)."""
    return etree.tostring(root, encoding="unicode", method="html")
