"""The Python API: what the CLI calls, and what a CMS integration calls.

    from listen.pipeline import render
    results = render([Path("article.html")], out=Path("public"), config=load_config(...))

A render works in three phases so that a failure leaves the output folder as it was: every page
is extracted and scripted first (bad input fails before any work), then each episode is
synthesized, mixed and tagged in a private temporary folder, and only then are all episodes
published into the output folder and the feed rebuilt.
"""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
import wave
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from listen import __version__, preload
from listen.art import JPEG, EpisodeArt, Pictures, art_inputs, episode_art
from listen.atomic import write_bytes
from listen.cache import TakeCache, parse_size
from listen.config import AUDIO_FORMATS, ExtractRules, SiteConfig, VoicePreset, find_preset
from listen.engines import phoneme_format
from listen.errors import ListenError
from listen.extract import Article, extract, extract_file
from listen.feed import check_category
from listen.fetch import Limits, fetch_page, is_url
from listen.lexicon import Lexicon, article_lexicon, load_lexicon
from listen.mix import MixedAudio, mix
from listen.pages import PostedPage
from listen.publish import Manifest, art_names, slug_for, slugify
from listen.script import Script, Voicing, bound_length, build_script, split_sentences
from listen.storage import Destination, EpisodeRecord, open_destination
from listen.synthesize import (
    VoicedUnit,
    start_synthesis,
    synthesize_all,
    unit_key,
    voice_rate,
)
from listen.tag import Artwork, EpisodeTags, load_artwork, tag
from listen.voices import choose_voice, quote_voice_for

#: A page: an HTML file, an http(s) URL to fetch, or a page a CMS posted.
Page = Path | str | PostedPage

#: Bumped when the published files change shape, so episodes published before are re-made
#: (2: the manifest's "source" is no longer the local path the page was read from; 3: episode
#: and chapter art).
MANIFEST_REVISION = 3

#: progress(page, done, total): takes synthesized (or found in the cache) for one page.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class RenderResult:
    """A rendered episode. The paths are where a `FolderDestination` put the files; other
    destinations give their own names for them (object keys)."""

    manifest: Manifest
    manifest_path: Path
    audio_path: Path
    synthesized: int
    cached: int
    #: The episode was already published, made from exactly this: nothing was written.
    unchanged: bool = False
    #: The parts the audio was mixed in (`listen.mix`), and how many of them this render
    #: encoded (the others were reused from the cache).
    parts: int = 0
    encoded_parts: int = 0


@dataclass
class PageStats:
    synthesized: int = 0
    cached: int = 0


@dataclass
class _Job:
    source: Page
    script: Script
    slug: str
    audio: MixedAudio | None = None
    stats: PageStats = field(default_factory=PageStats)
    render_key: str = ""
    #: The published episode, when nothing it was made from has changed.
    unchanged: Manifest | None = None
    #: Where the page's pictures are read from, and the art made of them.
    pictures: Pictures = field(default_factory=Pictures)
    art: EpisodeArt = field(default_factory=EpisodeArt)


def extract_page(page: Page, config: SiteConfig | None = None, public_only: bool = False
                 ) -> Article:  # fmt: skip
    """The page's article. `public_only`: a URL is fetched only from a public internet address
    (unless `[fetch] allow_private_addresses`), as for pages that others name."""
    rules = config.extract if config else ExtractRules()
    if isinstance(page, PostedPage):
        if isinstance(page.source, Path):  # posted HTML: never a local page, in messages too
            article = extract(page.source.read_bytes(), source=str(page), rules=rules)
        else:
            article = extract_page(page.source, config, public_only)
        return replace(article, url=page.url) if page.url else article
    if isinstance(page, str) and is_url(page):
        allow = config is not None and config.fetch.allow_private_addresses
        limits = Limits(max_bytes=rules.max_page_bytes, public_only=public_only and not allow)
        return extract(fetch_page(page, limits), page, rules)
    return extract_file(Path(page), rules)


def pictures_for(page: Page, config: SiteConfig, public_only: bool = False) -> Pictures:
    """Where a page's pictures come from: a local page's folder; a fetched (or posted) page's
    pictures are fetched with the page's own limits."""
    allow = config.fetch.allow_private_addresses
    limits = Limits(max_bytes=config.extract.max_page_bytes, public_only=public_only and not allow)
    if isinstance(page, PostedPage):
        return Pictures(limits=limits) if isinstance(page.source, Path) else pictures_for(
            page.source, config, public_only)  # fmt: skip
    if isinstance(page, str) and is_url(page):
        return Pictures(limits=limits)
    return Pictures(folder=Path(page).resolve().parent)


def voicing_for(language: str, config: SiteConfig, preset: VoicePreset, page: Page | None = None
                ) -> Voicing:  # fmt: skip
    """The site's lexicon, with a local page's own overrides, in the preset's phoneme
    notation."""
    lexicon = load_lexicon(config.speech.lexicon) if config.speech.lexicon else Lexicon()
    if page is not None and not isinstance(page, PostedPage) and not is_url(str(page)):
        lexicon = lexicon.merged(article_lexicon(Path(page)))
    return Voicing(language=language, normalize=config.speech.normalize, lexicon=lexicon,
                   phonemes=phoneme_format(preset), voice=preset.name)  # fmt: skip


def script_page(page: Page, config: SiteConfig | None = None, voice: str | None = None
                ) -> Script:  # fmt: skip
    """What will be narrated for a page, and by whom: `voice` if given, else the voice for the
    page's language (`listen.voices.choose_voice`), and the quotation voice if the site has
    one."""
    return _script_and_voices(page, config or SiteConfig(), voice)[0]


def _script_and_voices(page: Page, config: SiteConfig, voice: str | None, public_only: bool = False
                       ) -> tuple[Script, dict[str, VoicePreset]]:  # fmt: skip
    article = extract_page(page, config, public_only)
    narrator = choose_voice(article.language, config, voice)
    quote = quote_voice_for(article.language, config, narrator)
    voicing = voicing_for(article.language, config, narrator, page)
    quote_voicing = voicing_for(article.language, config, quote, page) if quote else None
    script = build_script(article, config.speech, voicing, config.show.title, quote_voicing)
    return script, {preset.name: preset for preset in (narrator, quote) if preset}


def _episode_tags(
    script: Script, config: SiteConfig, chapters, artwork: Artwork | None, art: EpisodeArt
) -> EpisodeTags:  # type: ignore[no-untyped-def]
    """The file's tags: the episode's own cover, else the show's artwork; chapter art."""
    article = script.article
    if art.cover is not None:
        artwork = Artwork(art.cover, JPEG)
    return EpisodeTags(
        title=article.title,
        artist=article.byline or article.site_name or config.show.author or config.show.title,
        album=config.show.title,
        album_artist=config.show.author or config.show.title,
        language=article.language,
        chapters=chapters,
        date=article.published,
        url=article.url,
        description=article.summary,
        artwork=artwork,
        chapter_art=tuple(Artwork(data, JPEG) if data else None for data in art.chapters),
    )


def _tracker(
    work: list[_Job], keys_of: list[list[str]], progress: Progress | None
) -> Callable[[str, bool], None]:
    """Per-page counts (and progress reports) from the batch's per-take notices."""
    pages_of: dict[str, list[int]] = {}
    for index, keys in enumerate(keys_of):
        for key in keys:
            pages_of.setdefault(key, []).append(index)
    done = [0] * len(work)

    def on_take(key: str, from_cache: bool) -> None:
        for index in pages_of[key]:
            job = work[index]
            done[index] += 1
            if from_cache:
                job.stats.cached += 1
            else:
                job.stats.synthesized += 1
            if progress:
                progress(str(job.source), done[index], len(keys_of[index]))

    return on_take


def _unique_slugs(jobs: list[_Job]) -> None:
    seen: dict[str, int] = {}
    for job in jobs:
        count = seen.get(job.slug, 0)
        seen[job.slug] = count + 1
        if count:
            job.slug = f"{job.slug}-{count + 1}"


def render(
    pages: Sequence[Page],
    out: Path | Destination,
    config: SiteConfig,
    voice: str | None = None,
    fmt: str | None = None,
    feed: bool = True,
    jobs: int | None = None,
    cache: TakeCache | None = None,
    progress: Progress | None = None,
    prune_cache: bool = True,
    public_only: bool = False,
    help_wanted: Callable[[list[VoicedUnit]], None] | None = None,
    loading: preload.Loading | None = None,
) -> list[RenderResult]:
    """Render article pages into episodes in `out` (a folder, or any `Destination`), then
    rebuild its feed (unless `feed` is false) and prune the take cache to its size limit
    (unless `prune_cache` is false: a queue worker leaves both to the end of its batch).
    `public_only`: URLs are fetched from public internet addresses only (`extract_page`).
    `help_wanted(units)`, if given, is told the units whose takes are not in the cache before
    they are made (a queue worker asks idle ones to make them from the end: `queue`).
    `loading`: the voice's load, if the caller started it already (`preload.start` with the
    same pages, config, voice and cache), which the render then waits for."""
    fmt = fmt or config.render.format
    if fmt not in AUDIO_FORMATS:
        raise ListenError(f"unknown format {fmt!r} (use {' or '.join(AUDIO_FORMATS)})")
    if voice:
        find_preset(voice, config)  # an unknown voice fails before any page is read
    destination = open_destination(out, config.state.dir)
    destination.check()
    artwork = load_artwork(config.show.artwork) if config.show.artwork else None
    for section in config.feed.feeds:  # a bad section artwork fails before any work
        if section.artwork:
            load_artwork(section.artwork)
    if feed:
        check_category(config.show)
    cache = cache if cache is not None else TakeCache(config.cache.dir)
    # The narrator's voice loads while the pages are read (unless no take is missing).
    loading = loading or preload.start(pages, config, voice, cache)
    try:
        results = _render(pages, destination, config, voice, fmt, feed, jobs, cache, progress,
                          prune_cache, public_only, help_wanted, artwork)  # fmt: skip
    finally:
        loading.wait()
    loading.remember(cache)
    return results


def _render(pages: Sequence[Page], destination: Destination, config: SiteConfig,
            voice: str | None, fmt: str, feed: bool, jobs: int | None, cache: TakeCache,
            progress: Progress | None, prune_cache: bool, public_only: bool,
            help_wanted: Callable[[list[VoicedUnit]], None] | None, artwork: Artwork | None,
            ) -> list[RenderResult]:  # fmt: skip
    work: list[_Job] = []
    presets: dict[str, VoicePreset] = {}
    for page in pages:
        script, voices = _script_and_voices(page, config, voice, public_only)
        presets.update(voices)
        work.append(_Job(source=page, script=script, slug="",
                         pictures=pictures_for(page, config, public_only)))  # fmt: skip
    for job in work:
        given = job.source.slug if isinstance(job.source, PostedPage) else None
        job.slug = slugify(given) if given else slug_for(job.script.article.url, str(job.source))
    _unique_slugs(work)

    # One batch for all pages, so they share the worker pools (one per voice). An episode is
    # made at its narrator's sample rate; a quotation voice's takes are resampled to it. The
    # takes are made in the background, in order: each episode is mixed as its takes come in.
    # An episode published from exactly what this render would use is left as it is, and its
    # takes are not made (a cache cleared, or a new machine, costs nothing to re-render).
    units_of = [[(presets[name], voice_rate(presets[job.script.voice]), unit)
                 for name, unit in job.script.voiced_units] for job in work]  # fmt: skip
    keys_of = [[unit_key(unit) for unit in units] for units in units_of]
    for index, job in enumerate(work):
        job.render_key = render_key(job, keys_of[index], config, fmt, artwork)
        job.unchanged = unchanged_episode(destination, job, fmt)
        if job.unchanged is not None:
            units_of[index], keys_of[index] = [], []
    if help_wanted is not None:
        missing = {key: unit for units, keys in zip(units_of, keys_of, strict=True)
                   for unit, key in zip(units, keys, strict=True) if cache.lookup(key) is None}
        help_wanted(list(missing.values()))
    stream = start_synthesis([unit for units in units_of for unit in units], cache, jobs=jobs,
                             on_take=_tracker(work, keys_of, progress))  # fmt: skip
    try:
        with tempfile.TemporaryDirectory(prefix="listen-render-") as tmp:
            offset = 0
            for index, job in enumerate(work):
                if job.unchanged is not None:
                    continue
                workdir = Path(tmp) / str(index)
                workdir.mkdir()
                takes = stream.view(offset, len(keys_of[index]))
                offset += len(keys_of[index])
                job.art = episode_art(job.script, job.pictures, config.render.chapter_art)
                job.audio = mix(job.script, takes, cache, config.render, fmt, workdir,
                                jobs=jobs)  # fmt: skip
                tag(
                    job.audio.path,
                    fmt,
                    _episode_tags(job.script, config, job.audio.timeline.chapters, artwork,
                                  job.art),
                )
            stream.wait()  # every take made and counted
            destination.sweep()
            results = [_publish(job, destination, config, fmt) for job in work]
    finally:
        stream.close()
    for job in work:
        destination.remember(_record(job, config, fmt))
    destination.publish_shared(config.show)
    if prune_cache:
        cache.prune_if_over(parse_size(config.cache.max_size))
    if feed:
        destination.rebuild_feed(config.show, config.feed)
    return results


def render_key(job: _Job, take_keys: Sequence[str], config: SiteConfig, fmt: str,
               artwork: Artwork | None) -> str:  # fmt: skip
    """A digest of everything an episode's published files are made from (where the page was
    read from is not: it is never published)."""
    article = job.script.article
    blob = json.dumps({
        "listen": __version__, "manifest": MANIFEST_REVISION, "format": fmt,
        "voice": job.script.voice, "slug": job.slug,
        "voices": [s.voice for s in job.script.sentences],
        "takes": list(take_keys), "render": asdict(config.render),
        "article": [article.title, article.byline, article.published, article.url,
                    article.language, article.summary, article.categories, article.tags,
                    article.authors],
        "chapters": [c.title for c in job.script.chapters],
        "sentences": [s.text for s in job.script.sentences],
        "blocks": [[asdict(b) for b in job.script.blocks],
                   [s.block for s in job.script.sentences]],
        "show": [config.show.title, config.show.author],
        "artwork": hashlib.sha256(artwork.data).hexdigest() if artwork else None,
        "art": art_inputs(job.script, job.pictures, config.render.chapter_art),
    }, sort_keys=True, ensure_ascii=False, default=str)  # fmt: skip
    return hashlib.sha256(blob.encode()).hexdigest()


def unchanged_episode(destination: Destination, job: _Job, fmt: str) -> Manifest | None:
    """The published episode, if it was made from exactly what this render would use."""
    published = destination.published(job.slug, fmt)
    if published is None or published.render_key != job.render_key:
        return None
    return published


def _publish(job: _Job, destination: Destination, config: SiteConfig, fmt: str) -> RenderResult:
    if job.unchanged is not None:
        destination.publish_page(job.unchanged, config.show)
        manifest_at, audio_at = destination.locations(job.unchanged)
        return RenderResult(job.unchanged, Path(manifest_at), Path(audio_at),
                            job.stats.synthesized, job.stats.cached, unchanged=True)  # fmt: skip
    assert job.audio is not None
    article = job.script.article
    timeline = job.audio.timeline
    previous = destination.previous(job.slug, fmt)
    cover_name, chapter_names = art_names(
        job.slug, job.art.cover is not None, [data is not None for data in job.art.chapters]
    )
    art = {name: data for name, data in ((cover_name, job.art.cover),
                                         *zip(chapter_names, job.art.chapters, strict=True))
           if name and data}  # fmt: skip
    added = (
        previous.added
        if previous and previous.added
        else datetime.now(UTC).replace(microsecond=0).isoformat()
    )
    manifest = Manifest(
        title=article.title,
        slug=job.slug,
        source=article.url,
        url=article.url,
        published=article.published,
        language=article.language,
        voice=job.script.voice,
        duration_ms=timeline.duration_ms,
        audio=f"{job.slug}.{fmt}",
        chapters=timeline.chapters,
        sentences=timeline.sentences,
        blocks=job.script.blocks,
        byline=article.byline,
        summary=article.summary,
        mime_type=job.audio.mime_type,
        audio_bytes=job.audio.path.stat().st_size,
        added=added,
        render_key=job.render_key,
        categories=article.categories,
        tags=article.tags,
        authors=article.authors,
        image=cover_name,
        chapter_images=chapter_names,
    )
    manifest_at, audio_at = destination.publish_episode(manifest, job.audio, config.show, art)
    return RenderResult(
        manifest=manifest,
        manifest_path=Path(manifest_at),
        audio_path=Path(audio_at),
        synthesized=job.stats.synthesized,
        cached=job.stats.cached,
        parts=len(timeline.parts),
        encoded_parts=job.audio.encoded,
    )


def _record(job: _Job, config: SiteConfig, fmt: str) -> EpisodeRecord:
    page = job.source.source if isinstance(job.source, PostedPage) else job.source
    source = page if isinstance(page, str) and is_url(page) else str(Path(page).resolve())
    return EpisodeRecord(slug=job.slug, source=source,
                         config=str(config.source.resolve()) if config.source else None,
                         voice=job.script.voice, format=fmt)  # fmt: skip


@dataclass(frozen=True)
class Audition:
    spoken: str
    path: Path
    duration_ms: int


def say(text: str, out: Path, config: SiteConfig, voice: str | None = None,
        cache: TakeCache | None = None) -> Audition:  # fmt: skip
    """Speak a snippet with the site's lexicon and normalization into a WAV file: the editor's
    way to audition a pronunciation fix before re-rendering."""
    if out.is_dir():
        raise ListenError(f"{out} is a folder: name the WAV file to write")
    if not out.parent.is_dir():  # as for any file argument: no folder is made for it
        raise ListenError(f"folder not found: {out.parent}")
    preset = find_preset(voice or config.render.voice, config)
    voicing = voicing_for(config.show.language, config, preset)
    sentences = [voicing.speak(s) for s in split_sentences(text.strip(), voicing.language)]
    units = [u for s in sentences if s for u in bound_length(s)]
    if not units:
        raise ListenError("nothing to say")
    cache = cache if cache is not None else TakeCache(config.cache.dir)
    refs = synthesize_all(units, preset, cache, jobs=1)
    rate = refs[0].sample_rate
    pause = np.zeros(round(config.render.pauses.sentence_ms * rate / 1000), dtype=np.int16)
    audio = np.concatenate([part for ref in refs for part in (cache.read(ref), pause)])
    audio = (audio * (10 ** (-1 / 20) * 32767 / max(int(np.abs(audio).max()), 1))).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(audio.tobytes())
    try:
        write_bytes(out, buffer.getvalue())
    except OSError as exc:
        raise ListenError(f"cannot write {out}: {exc.strerror or exc}") from None
    return Audition(" ".join(sentences), out, round(1000 * len(audio) / rate))


def rebuild_feed(out: Path | Destination, config: SiteConfig) -> Path:
    destination = open_destination(out, config.state.dir)
    return Path(destination.rebuild_feed(config.show, config.feed))


def remove(slugs: Sequence[str], out: Path | Destination, config: SiteConfig) -> list[str]:
    """Unpublish episodes: their files leave `out`, then the feeds and the playlist are
    rebuilt without them. Every slug must be published (else nothing is removed)."""
    destination = open_destination(out, config.state.dir)
    destination.check()
    missing = [slug for slug in slugs if not _is_published(destination, slug)]
    if missing:
        raise ListenError(f"no episode {', '.join(missing)} in {out}")
    for slug in dict.fromkeys(slugs):
        destination.remove(slug)
    rebuild_feed(destination, config)
    return list(dict.fromkeys(slugs))


def _is_published(destination: Destination, slug: str) -> bool:
    return slugify(slug) == slug and any(
        destination.previous(slug, fmt) is not None for fmt in AUDIO_FORMATS
    )


__all__ = ["PostedPage", "RenderResult", "extract_page", "rebuild_feed", "remove", "render",
           "script_page"]  # fmt: skip
