"""Episode art and chapter art from the article's own pictures, checked as apps read them: the
JSON chapters' `img`, psc:chapter's `image`, the item's itunes:image (the published file read
with Pillow), APIC frames inside CHAP frames and the top-level APIC (mutagen), the chapters
ffprobe lists. Pictures are made with Pillow at test time; the fast espeak voice speaks."""

from __future__ import annotations

import io
import json
import random
import struct
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import feedparser
import podcastparser
import pytest
from helpers import (
    CONFIG,
    SAMPLES,
    PageServer,
    assert_nothing_private,
    config_with,
    ffprobe,
    run_listen,
)
from mutagen.id3 import ID3
from mutagen.mp4 import MP4
from PIL import Image, ImageDraw

from listen.art import (
    CHAPTER_BUDGET_BYTES,
    CHAPTER_MAX_PX,
    MAX_PIXELS,
    Pictures,
    Unavailable,
    decode,
    square_cover,
)
from listen.extract import extract
from listen.extract.pictures import is_decorative, resolve

NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "psc": "http://podlove.org/simple-chapters",
}
BASE = "https://www.example-news.org/listen/episodes/"
TEXT = (
    "The river runs through the valley and has done so for a very long time, carving the "
    "stone into shapes that people come from far away to see. "
)


def picture(width: int, height: int, seed: int, fmt: str = "JPEG") -> bytes:
    """A photo-like picture: shapes of many colours (so JPEG has something to compress)."""
    rng = random.Random(seed)
    image = Image.new("RGB", (width, height), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(80):
        x, y = rng.randrange(width), rng.randrange(height)
        size = rng.randrange(10, max(11, min(width, height) // 3))
        draw.ellipse((x, y, x + size, y + size), fill=tuple(rng.randrange(256) for _ in range(3)))
    buffer = io.BytesIO()
    image.save(buffer, fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def noise_png(side: int) -> bytes:
    image = Image.frombytes("RGB", (side, side), random.Random(7).randbytes(side * side * 3))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG file that declares `width` x `height` pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))  # fmt: skip


def page(title: str, sections: list[tuple[str | None, str]], head: str = "") -> str:
    """An article: each section a heading (None: the lead) and the markup of its pictures."""
    body = []
    for heading, pictures in sections:
        if heading:
            body.append(f"<h2>{heading}</h2>")
        body.append(f"<p>{TEXT}</p>{pictures}<p>{TEXT}</p>")
    return (f"<html><head><title>{title}</title>{head}</head><body><article><h1>{title}</h1>"
            + "".join(body) + "</article></body></html>")  # fmt: skip


LOCAL_SECTIONS = [
    # The lead: a figure (its caption is not read), after the page's logo.
    (None, '<img src="img/site-logo.png" alt="Example News logo">'
           '<figure><img src="img/river.jpg" alt="The river"><figcaption>The river at dawn. '
           "Photo: A. Photographer</figcaption></figure>"),
    ("The dam", '<img src="img/avatar.jpg" class="author-avatar" width="48" height="48">'
                '<div class="wp-caption"><img src="img/dam%20wall.png" alt="The dam wall">'
                '<p class="wp-caption-text">The dam wall.</p></div>'),
    # Icons, ads and pixels only, by markup or by their actual size: no chapter art.
    ("The icons", '<img src="img/tiny.jpg"><img src="img/share-icon.png">'
                  '<img src="img/photo.jpg" width="1" height="1">'
                  '<img src="img/banner-ad.jpg" class="ad-slot">'),
    # Pictures that cannot be had: missing, not a picture, outside the page's folder, a bomb.
    ("The lost pictures", '<img src="img/gone.jpg"><img src="img/broken.jpg">'
                          '<img src="../outside.jpg">'),
    ("The town", '<img src="img/bomb.png">'),
]  # fmt: skip


def write_local_page(folder: Path) -> Path:
    pictures = folder / "img"
    pictures.mkdir(parents=True)
    (pictures / "river.jpg").write_bytes(picture(2000, 1400, 1))
    (pictures / "dam wall.png").write_bytes(picture(900, 1200, 2, "PNG"))
    (pictures / "site-logo.png").write_bytes(picture(400, 120, 3, "PNG"))
    (pictures / "avatar.jpg").write_bytes(picture(200, 200, 4))
    (pictures / "tiny.jpg").write_bytes(picture(40, 40, 5))
    (pictures / "share-icon.png").write_bytes(picture(300, 300, 6, "PNG"))
    (pictures / "photo.jpg").write_bytes(picture(300, 300, 7))
    (pictures / "banner-ad.jpg").write_bytes(picture(300, 300, 8))
    (pictures / "broken.jpg").write_bytes(b"not a picture at all")
    (pictures / "bomb.png").write_bytes(bomb_png(30_000, 30_000))
    (folder.parent / "outside.jpg").write_bytes(picture(500, 500, 9))
    path = folder / "river-story.html"
    path.write_text(page("The river story", LOCAL_SECTIONS), encoding="utf-8")
    return path


def render(page_arg: str | Path, out: Path, config: Path = CONFIG, *extra: str):  # type: ignore[no-untyped-def]
    return run_listen("render", page_arg, "--out", out, "--config", config,
                      "--voice", "espeak-en-us", *extra)  # fmt: skip


def item_of(out: Path) -> ET.Element:
    (item,) = ET.parse(out / "feed.xml").getroot().iter("item")
    return item


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("art")
    source = write_local_page(tmp / "site")
    out = tmp / "public"
    done = render(source, out)
    return source, out, done


def test_pictures_of_two_sections_are_chapter_art_everywhere(local) -> None:  # type: ignore[no-untyped-def]
    source, out, _ = local
    episodes = out / "episodes"
    chapters = json.loads((episodes / "river-story.chapters.json").read_text())["chapters"]
    assert [c["title"] for c in chapters] == [
        "The river story", "The dam", "The icons", "The lost pictures", "The town"]  # fmt: skip
    images = [c.get("img") for c in chapters]
    assert images == [BASE + "river-story/chapter-1.jpg", BASE + "river-story/chapter-2.jpg",
                      None, None, None]  # fmt: skip
    psc = [c.get("image") for c in item_of(out).iterfind("psc:chapters/psc:chapter", NS)]
    assert psc == images
    originals = [(source.parent / "img/river.jpg").read_bytes(),
                 (source.parent / "img/dam wall.png").read_bytes()]  # fmt: skip
    for number, original in zip((1, 2), originals, strict=True):
        data = (episodes / f"river-story/chapter-{number}.jpg").read_bytes()
        assert data != original and len(data) <= CHAPTER_BUDGET_BYTES
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "JPEG" and max(image.size) <= CHAPTER_MAX_PX
            assert not image.getexif()

    tags = ID3(episodes / "river-story.mp3")
    chaps = sorted(tags.getall("CHAP"), key=lambda chap: chap.start_time)
    art = [chap.sub_frames.getall("APIC") for chap in chaps]
    assert [len(pictures) for pictures in art] == [1, 1, 0, 0, 0]
    assert [pictures[0].data for pictures in art[:2]] == [
        (episodes / f"river-story/chapter-{n}.jpg").read_bytes() for n in (1, 2)]  # fmt: skip
    (cover,) = tags.getall("APIC")  # the top-level one: the episode's cover
    assert cover.mime == "image/jpeg"
    assert cover.data == (episodes / "river-story/cover.jpg").read_bytes()
    # ffmpeg-based players still see every chapter (they misread v2.4 sub-frame sizes).
    listed = ffprobe(episodes / "river-story.mp3", "-show_chapters")["chapters"]
    assert [c["tags"]["title"] for c in listed] == [c["title"] for c in chapters]


def test_the_lead_picture_is_the_items_square_itunes_image(local) -> None:  # type: ignore[no-untyped-def]
    _, out, _ = local
    href = item_of(out).find("itunes:image", NS).get("href")
    assert href == BASE + "river-story/cover.jpg"
    with Image.open(out / "episodes/river-story/cover.jpg") as image:
        assert image.format == "JPEG"
        assert image.width == image.height and 1400 <= image.width <= 3000
    channel = ET.parse(out / "feed.xml").getroot().find("channel")
    assert channel.find("itunes:image", NS).get("href").endswith("/artwork.png")
    data = (out / "feed.xml").read_bytes()
    (entry,) = feedparser.parse(data).entries
    assert entry.image.href == href
    (episode,) = podcastparser.parse(BASE + "../feed.xml", io.BytesIO(data))["episodes"]
    assert episode["episode_art_url"] == href
    assert [c.get("image") for c in episode["chapters"]][:3] == [
        BASE + "river-story/chapter-1.jpg", BASE + "river-story/chapter-2.jpg", None]  # fmt: skip


def test_an_m4a_episode_has_the_cover_and_the_chapter_art_files(tmp_path: Path) -> None:
    source = write_local_page(tmp_path / "site")
    out = tmp_path / "public"
    render(source, out, CONFIG, "--format", "m4a")
    (cover,) = MP4(out / "episodes/river-story.m4a").tags["covr"]
    assert bytes(cover) == (out / "episodes/river-story/cover.jpg").read_bytes()
    chapters = json.loads((out / "episodes/river-story.chapters.json").read_text())["chapters"]
    assert [bool(c.get("img")) for c in chapters] == [True, True, False, False, False]
    listed = ffprobe(out / "episodes/river-story.m4a", "-show_chapters")["chapters"]
    assert len(listed) == 5


def test_unreadable_pictures_warn_and_icons_are_not_used(local) -> None:  # type: ignore[no-untyped-def]
    _, out, done = local
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    for name, why in (
        ("img/gone.jpg", "no such file"),
        ("img/broken.jpg", "not a readable"),
        ("../outside.jpg", "outside"),
        ("img/bomb.png", "too many pixels"),
    ):
        assert any(name in line and why in line for line in warnings), (name, done.stderr)
    assert "error" not in done.stderr
    for name in ("logo", "avatar", "tiny", "icon", "photo", "banner"):  # never even read
        assert not any(name in line for line in warnings), done.stderr
    assert sorted(p.name for p in (out / "episodes/river-story").iterdir()) == [
        "chapter-1.jpg", "chapter-2.jpg", "cover.jpg"]  # fmt: skip


def test_nothing_private_and_a_re_render_changes_no_byte(local, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source, out, _ = local
    assert_nothing_private(out, source.parent, "img/river.jpg", "dam wall")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    render(source, out)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    # A picture changed: its chapter art (and the cover made of the same picture) changes.
    copy = tmp_path / "site"
    copy.mkdir()
    (copy / "img").mkdir()
    for picture_file in (source.parent / "img").iterdir():
        (copy / "img" / picture_file.name).write_bytes(picture_file.read_bytes())
    (copy / source.name).write_bytes(source.read_bytes())
    (copy / "img/river.jpg").write_bytes(picture(1800, 1800, 11))
    render(copy / source.name, out)
    art = out / "episodes/river-story"
    assert (art / "chapter-1.jpg").read_bytes() != before[art / "chapter-1.jpg"]
    assert (art / "chapter-2.jpg").read_bytes() == before[art / "chapter-2.jpg"]


def test_chapter_art_off(tmp_path: Path) -> None:
    source = write_local_page(tmp_path / "site")
    out = tmp_path / "public"
    render(source, out, config_with(tmp_path, "render", "chapter_art = false"))
    chapters = json.loads((out / "episodes/river-story.chapters.json").read_text())["chapters"]
    assert not any("img" in c for c in chapters)
    assert not any(c.get("image") for c in item_of(out).iterfind("psc:chapters/psc:chapter", NS))
    tags = ID3(out / "episodes/river-story.mp3")
    assert not any(chap.sub_frames.getall("APIC") for chap in tags.getall("CHAP"))
    assert len(tags.getall("APIC")) == 1  # the episode's cover stays
    assert sorted(p.name for p in (out / "episodes/river-story").iterdir()) == ["cover.jpg"]


def test_a_url_pages_pictures_are_fetched_with_the_pages_limits(tmp_path: Path) -> None:
    html = page("The harbour story", [
        (None, '<img src="/media/harbour.jpg" width="1600" height="900">'),
        ("The cranes", '<img src="cranes.jpg">'),
        ("The ships", '<img src="/media/huge.png">'),  # over the size limit
        ("The quay", '<img src="missing.jpg">'),  # 404
    ], head='<meta property="og:image" content="/media/og.jpg">')  # fmt: skip
    server = PageServer({
        "harbour.html": html.encode(), "harbour.jpg": picture(1600, 900, 1),
        "cranes.jpg": picture(1000, 700, 2), "huge.png": noise_png(700),
        "og.jpg": picture(1500, 1500, 3),
    })  # fmt: skip
    try:
        config = config_with(tmp_path, "extract", "max_page_mb = 0.4")
        out = tmp_path / "public"
        done = render(f"{server.url}/news/harbour.html", out, config)
    finally:
        server.close()
    assert {"/media/harbour.jpg", "/news/cranes.jpg", "/media/huge.png", "/news/missing.jpg",
            "/media/og.jpg"} <= set(server.paths)  # fmt: skip
    assert "huge.png" in done.stderr and "too large" in done.stderr
    assert "missing.jpg" in done.stderr and "404" in done.stderr
    chapters = json.loads((out / "episodes/harbour.chapters.json").read_text())["chapters"]
    assert [bool(c.get("img")) for c in chapters] == [True, True, False, False]
    with Image.open(out / "episodes/harbour/cover.jpg") as cover:  # made of og:image
        assert cover.size == (1500, 1500)
    assert_nothing_private(out, tmp_path)
    assert server.url not in (out / "feed.xml").read_text()


def test_a_page_without_pictures_keeps_the_show_artwork(tmp_path: Path) -> None:
    source = tmp_path / "plain.html"
    source.write_text(page("A plain story", [(None, ""), ("More", "")]), encoding="utf-8")
    out = tmp_path / "public"
    render(source, out)
    assert item_of(out).find("itunes:image", NS) is None  # the channel's artwork stands
    (cover,) = ID3(out / "episodes/plain.mp3").getall("APIC")
    assert cover.data == (SAMPLES / "artwork.png").read_bytes()
    assert not (out / "episodes/plain").exists()


# --- units ------------------------------------------------------------------------------------


def test_decoding_refuses_bombs_and_junk() -> None:
    assert MAX_PIXELS < 30_000 * 30_000
    with pytest.raises(Unavailable, match="too many pixels"):
        decode(bomb_png(30_000, 30_000))
    with pytest.raises(Unavailable, match="not a readable"):
        decode(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    with pytest.raises(Unavailable, match="too small"):
        decode(picture(60, 400, 1))


@pytest.mark.parametrize(
    ("size", "square"),
    [((2000, 1700), 1700), ((1200, 630), 1400), ((4000, 4000), 3000), ((900, 900), 1400)],
)
def test_covers_are_square_for_apple(size: tuple[int, int], square: int) -> None:
    cover = square_cover(decode(picture(*size, seed=3)))
    assert cover is not None
    with Image.open(io.BytesIO(cover)) as image:
        assert image.size == (square, square)


def test_a_picture_too_small_for_a_cover_is_none() -> None:
    assert square_cover(decode(picture(300, 300, 1))) is None


def test_local_pictures_stay_inside_the_pages_folder(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "secret.jpg").write_bytes(picture(300, 300, 1))
    (tmp_path / "site" / "link.jpg").symlink_to(tmp_path / "secret.jpg")
    pictures = Pictures(folder=tmp_path / "site")
    for ref in ("../secret.jpg", "link.jpg", "%2e%2e/secret.jpg"):
        with pytest.raises(Unavailable, match="outside"):
            pictures.data(ref)
    with pytest.raises(Unavailable) as refused:
        pictures.data("https://elsewhere.example/a.jpg")  # a local page fetches nothing
    assert refused.value.quiet


@pytest.mark.parametrize(("reference", "base", "expected"), [
    ("a.jpg", "https://news.example/story/", "https://news.example/story/a.jpg"),
    ("/m/a.jpg", "https://news.example/story/", "https://news.example/m/a.jpg"),
    ("img/a.jpg", None, "img/a.jpg"),
    ("https://cdn.example/a.jpg", None, "https://cdn.example/a.jpg"),
    ("file:///etc/passwd", None, None),
    ("file:///etc/passwd", "https://news.example/", None),
    ("data:image/png;base64,AAAA", None, None),
    ("javascript:alert(1)", "https://news.example/", None),
    ("//cdn.example/a.jpg", None, None),
])  # fmt: skip
def test_picture_addresses(reference: str, base: str | None, expected: str | None) -> None:
    assert resolve(reference, base) == expected


def test_sections_get_their_own_first_real_picture() -> None:
    html = page("Pictures", [
        (None, '<img src="data:image/gif;base64,R0lGOD" data-src="lazy.jpg" alt="A street">'),
        ("Second", '<img src="emoji/smile.png"><img src="logo.svg">'
                   '<img src="b.jpg" srcset="b-800.jpg 800w"><img src="c.jpg">'),
        ("Third", '<img src="d.jpg" aria-hidden="true">'),
    ], head='<base href="https://news.example/a/">')  # fmt: skip
    article = extract(html, source="https://news.example/story")
    assert [s.images for s in article.sections] == [
        ("https://news.example/a/lazy.jpg",),
        ("https://news.example/a/b.jpg", "https://news.example/a/c.jpg"),
        (),
    ]
    assert article.image == "https://news.example/a/lazy.jpg"  # no og:image: the first figure


def test_decorative_pictures() -> None:
    from lxml import etree

    def img(markup: str) -> bool:
        element = etree.fromstring(markup)
        return is_decorative(element, element.get("src"))

    assert img('<img src="a.jpg" width="64"/>')
    assert img('<img src="a.jpg" class="wp-avatar"/>')
    assert img('<img src="company-logo.jpg"/>')
    assert img('<img src="a.jpg" alt="Facebook icon"/>')
    assert not img('<img src="harbour.jpg" width="800" alt="The harbour at night"/>')
    assert not img('<img src="adventure.jpg" class="hero-image"/>')  # ("ad" is a whole word)
