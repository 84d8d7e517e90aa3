"""Hostile pages: `extract` returns an Article or raises ListenError, never anything else.

Mutated sample pages (byte flips, truncation, inserted and deleted tags, NUL bytes, invalid UTF-8,
random <meta charset> declarations), random tag soup, deep nesting, a ~50 MB page and a
1,000,000-character paragraph; and the CLI on a few of them: exit 0 or 1, no traceback, and on
exit 1 exactly one `error: ` line.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import SAMPLES, SEED
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from listen.errors import ListenError
from listen.extract import Article, extract

SAMPLE_PAGES = {p.name: p.read_bytes() for p in sorted(SAMPLES.glob("*.html"))}

#: A hang guard for one call on the huge pages, not a speed check (each takes about a second;
#: speed is measured in bench/extraction.py): a quadratic or endless walk fails instead of
#: stalling the suite.
HUGE_HANG_SECONDS = 300
#: A hang guard for the CLI on the hostile pages (each is refused or read in about a second; the
#: ~50 MB page is refused before it is read).
HUGE_CLI_SECONDS = 120.0

TAGS = (
    "div", "p", "span", "a", "b", "i", "h1", "h2", "h3", "article", "main", "section", "nav",
    "header", "footer", "aside", "ul", "ol", "li", "table", "tr", "td", "th", "script", "style",
    "meta", "title", "head", "body", "html", "blockquote", "figure", "figcaption", "br", "img",
    "noscript", "template", "svg", "math", "iframe", "time", "dl", "dt", "dd", "pre", "code",
)  # fmt: skip
ATTRS = (
    'class="content"', 'class="share"', 'id="comments"', 'hidden', 'style="display:none"',
    'role="navigation"', 'itemprop="articleBody"', 'type="application/ld+json"',
    'rel="author"', 'aria-hidden="true"', 'datetime="2024-02-30T99:99"', 'lang="zz-ZZZ"',
    'property="og:title" content="\x00"', 'charset="utf-16"', 'class="entry-content"',
)  # fmt: skip
CHARSETS = (
    "utf-8", "UTF-16", "utf-32", "windows-1252", "iso-8859-1", "shift_jis", "euc-jp", "gb18030",
    "koi8-r", "x-user-defined", "bogus-charset", "", "utf-7", "hz", "big5", "ibm037", "cp037",
    "rot13", "base64", "zlib", "idna", "punycode", "unicode_escape", "raw_unicode_escape",
    "uu", "hex", "bz2", "quopri", "mbcs", "undefined", "utf_8_sig", "latin-1",
)  # fmt: skip
JUNK = (
    b"\x00", b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf", b"\xc3\x28", b"\xa0\xa1", b"\xe2\x28\xa1",
    b"\xf0\x28\x8c\xbc", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80", b"\xc0\xaf",
    b"<!--", b"-->", b"<![CDATA[", b"]]>", b"<?xml encoding='utf-16'?>", b"<!DOCTYPE x [",
    b"&#0;", b"&#xD800;", b"&#99999999999;", b"&bogus;", b"</", b"<", b">", b'"', b"'",
    b"\r", b"\x0c", b"\x1b", "\u2028".encode(), "\U0001f600".encode(),
)  # fmt: skip


def check_extract(data: bytes | str, hang_guard: int | None = None) -> Article | None:
    """The property: an Article or a ListenError, nothing else (and no hang, when guarded)."""
    with hang_guarded(hang_guard, len(data)):
        try:
            article = extract(data)
        except ListenError as exc:
            assert str(exc).strip(), "a ListenError needs a message"
            return None
    assert isinstance(article, Article)
    assert article.title.strip()
    return article


@contextlib.contextmanager
def hang_guarded(seconds: int | None, size: int) -> Iterator[None]:
    if seconds is None:
        yield
        return

    def hung(signum: int, frame: object) -> None:
        raise AssertionError(f"extract still running after {seconds} s on a {size:,}-byte page")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# --- mutated samples -------------------------------------------------------------------------

tags = st.sampled_from(TAGS)
open_tag = st.builds(
    lambda t, a: f"<{t} {a}>".encode() if a else f"<{t}>".encode(),
    tags,
    st.sampled_from(("", *ATTRS)),
)
close_tag = tags.map(lambda t: f"</{t}>".encode())
meta_charset = st.sampled_from(CHARSETS).map(lambda c: f'<meta charset="{c}">'.encode())
insertion = st.one_of(
    open_tag, close_tag, meta_charset, st.sampled_from(JUNK), st.binary(min_size=1, max_size=16)
)


@st.composite
def mutated_page(draw: st.DrawFn) -> bytes:
    data = bytearray(SAMPLE_PAGES[draw(st.sampled_from(sorted(SAMPLE_PAGES)))])
    for _ in range(draw(st.integers(1, 12))):
        op = draw(st.sampled_from(("flip", "truncate", "insert", "delete_tag", "charset", "nul")))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[at:]
        elif op == "insert":
            data[at:at] = draw(insertion)
        elif op == "delete_tag":
            start = data.find(b"<", at)
            end = data.find(b">", start)
            if start >= 0 and end >= 0:
                del data[start : end + 1]
        elif op == "charset":
            # A declaration early in <head>, where the decoder looks for one.
            head = data.find(b"<head>")
            data[head + 6 if head >= 0 else 0 : head + 6 if head >= 0 else 0] = draw(meta_charset)
        elif op == "nul":
            data[at:at] = b"\x00" * draw(st.integers(1, 64))
    return bytes(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_page())
def test_mutated_samples_give_an_article_or_a_listen_error(data: bytes) -> None:
    check_extract(data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(SAMPLE_PAGES)), st.sampled_from(CHARSETS))
def test_any_declared_charset_is_survived(name: str, charset: str) -> None:
    data = SAMPLE_PAGES[name]
    declared = f'<meta charset="{charset}">'.encode()
    check_extract(declared + data)
    check_extract(data.replace(b"<head>", b"<head>" + declared, 1))
    check_extract(f'<?xml version="1.0" encoding="{charset}"?>'.encode() + data)


# --- tag soup --------------------------------------------------------------------------------

soup_piece = st.one_of(
    open_tag,
    close_tag,
    st.sampled_from(JUNK),
    st.text(max_size=80).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.binary(max_size=32),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(soup_piece, max_size=200).map(b"".join))
def test_tag_soup_gives_an_article_or_a_listen_error(data: bytes) -> None:
    check_extract(data)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=2000))
def test_any_text_gives_an_article_or_a_listen_error(text: str) -> None:
    check_extract(text)


# --- huge pages ------------------------------------------------------------------------------

DEPTH = 100_000
PROSE = b"This sentence is plain article prose, long enough to count as such. " * 20


def deep_page(depth: int = DEPTH, closed: bool = True) -> bytes:
    return (
        b"<html><head><title>Deep</title></head><body><article><h1>Deep page</h1>"
        + b"<div>" * depth
        + b"<p>"
        + PROSE
        + b"</p>"
        + (b"</div>" * depth if closed else b"")
        + b"</article></body></html>"
    )


def long_paragraph_page(chars: int = 1_000_000) -> bytes:
    words = (b"word " * (chars // 5 + 1))[:chars]
    head = b"<html><head><title>Long</title></head><body><h1>Long</h1><p>"
    return head + words + b"</p></body></html>"


def big_page(size: int = 50_000_000) -> bytes:
    seed = SEED.read_bytes()
    return seed * (size // len(seed) + 1)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: deep_page(), id="100k-nested-divs"),
        pytest.param(lambda: deep_page(closed=False), id="100k-unclosed-divs"),
        pytest.param(lambda: b"<div>" * DEPTH, id="100k-divs-only"),
        pytest.param(lambda: b"<b><i>" * DEPTH + PROSE, id="100k-nested-inline"),
        pytest.param(lambda: deep_page(900), id="900-nested-divs"),
        pytest.param(lambda: b"<div>" * 990 + b"<p>x</p>" * 300, id="990-deep-wide"),
        pytest.param(long_paragraph_page, id="1M-char-paragraph"),
        pytest.param(lambda: b"<p>" + b"x" * 1_000_000, id="1M-char-word"),
    ],
)
def test_huge_pages_give_an_article_or_a_listen_error(make) -> None:
    check_extract(make(), hang_guard=HUGE_HANG_SECONDS)


def test_the_long_paragraph_is_read_whole() -> None:
    article = check_extract(long_paragraph_page(), hang_guard=HUGE_HANG_SECONDS)
    assert article is not None
    assert sum(len(b.text) for s in article.sections for b in s.blocks) >= 999_000


# --- the CLI on hostile pages ----------------------------------------------------------------


def hostile_pages() -> dict[str, bytes]:
    seed = SEED.read_bytes()
    return {
        "nul-bytes.html": seed.replace(b"<p>", b"<p>\x00\x00", 40),
        "invalid-utf8.html": seed.replace(b" the ", b" \xc3\x28\xff\xfe ", 60),
        "utf16-declared.html": seed.replace(b"<head>", b'<head><meta charset="utf-16">', 1),
        "bogus-charset.html": seed.replace(b"<head>", b'<head><meta charset="rot13">', 1),
        "truncated.html": seed[: len(seed) // 3],
        "tag-soup.html": b"<p><div></b><table><td><h1>x</p></tr>" * 500 + b"\x00\xff",
        "empty.html": b"",
        "deep.html": deep_page(),
        "huge-50mb.html": big_page(),
    }


def test_cli_on_hostile_pages_exits_cleanly(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    procs = {}
    for name, data in hostile_pages().items():
        page = tmp_path / name
        page.write_bytes(data)
        procs[name] = subprocess.Popen(
            [sys.executable, "-m", "listen", "extract", str(page), "--format", "text"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
    for name, proc in procs.items():
        try:
            _, stderr = proc.communicate(timeout=HUGE_CLI_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            pytest.fail(f"listen extract {name} took over {HUGE_CLI_SECONDS} s")
        assert proc.returncode in (0, 1), (name, proc.returncode, stderr[-2000:])
        assert "Traceback" not in stderr, (name, stderr[-2000:])
        if proc.returncode == 1:
            lines = stderr.splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), (name, stderr)
    # over the local cap (the same as for fetched pages): refused, not read
    assert procs["huge-50mb.html"].returncode == 1


def test_a_30_mb_local_page_is_refused_with_one_line_and_the_cap_is_configurable(
    tmp_path: Path,
) -> None:
    from helpers import run_listen

    page = tmp_path / "big.html"
    page.write_bytes(big_page(30_000_000))
    done = run_listen("extract", page, check=False)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == f"error: page too large (over 20 MB): {page}\n"
    small = tmp_path / "small.html"
    small.write_bytes(big_page(2_000_000))
    strict = tmp_path / "strict.toml"
    strict.write_text('[show]\ntitle = "T"\n\n[extract]\nmax_page_mb = 1\n', encoding="utf-8")
    done = run_listen("extract", small, "--config", strict, check=False)
    assert done.stderr == f"error: page too large (over 1 MB): {small}\n"
