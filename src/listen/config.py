"""Site configuration (`listen.toml`) and voice presets (`voices/*.toml`)."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from listen.cache import parse_size
from listen.errors import ListenError

DEFAULT_CONFIG_NAME = "listen.toml"
#: The voice for pages in English unless the site names another: chosen by measurement
#: (README, Voices): heart is heard better than joe, 14x faster per core, and lighter.
DEFAULT_VOICE = "heart"


@dataclass(frozen=True)
class ShowConfig:
    """What a podcast app shows for the whole feed."""

    title: str = "Audio articles"
    author: str = ""
    site_url: str = "https://example.invalid/"
    #: Where DIR is served from; enclosure and chapter URLs are made absolute with it.
    base_url: str = ""
    language: str = "en"
    description: str = ""
    artwork: Path | None = None
    #: Apple Podcasts category and optional subcategory (Apple's list, e.g. "News", "Politics").
    category: str = "News"
    subcategory: str = ""
    explicit: bool = False
    owner_email: str = ""


@dataclass(frozen=True)
class SectionFeed:
    """One `[[feeds]]` table: a feed of its own (`feeds/<name>.xml`) listing the episodes whose
    article matches its filter: any of its `sections` (the article's section or category),
    any of its `tags` (tags, keywords) and any of its `authors`; every list given must match,
    names compared without regard to case."""

    name: str
    title: str
    description: str = ""
    #: Its own artwork (else the show's).
    artwork: Path | None = None
    sections: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()

    def lists(self, categories: Sequence[str], tags: Sequence[str], authors: Sequence[str]
              ) -> bool:  # fmt: skip
        """Whether an article with these sections/categories, tags and authors is listed."""
        wanted = ((self.sections, categories), (self.tags, tags), (self.authors, authors))
        return all(
            not names or {_folded(n) for n in names} & {_folded(v) for v in values}
            for names, values in wanted
        )


def _folded(name: str) -> str:
    return " ".join(name.split()).casefold()


FEED_NAME_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
FEED_FILTERS = ("sections", "tags", "authors")


def parse_feeds(tables: Any, base_dir: Path) -> tuple[SectionFeed, ...]:
    """The `[[feeds]]` tables, checked: a unique name of a-z, 0-9 and dashes, a title, and at
    least one filter."""
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ListenError("feeds must be [[feeds]] tables")
    feeds: list[SectionFeed] = []
    for number, table in enumerate(tables, start=1):
        where = f"[[feeds]] #{number}"
        table = _known(SectionFeed, table, where)
        name = table.get("name")
        if not isinstance(name, str) or not FEED_NAME_PATTERN.fullmatch(name):
            raise ListenError(f"{where}: name must be a-z, 0-9 and dashes (it names "
                              f"feeds/NAME.xml), not {name!r}")  # fmt: skip
        where = f"[[feeds]] {name}"
        if any(feed.name == name for feed in feeds):
            raise ListenError(f"{where}: two feeds have this name")
        if not isinstance(table.get("title"), str) or not table["title"].strip():
            raise ListenError(f"{where}: a title is required")
        for key in FEED_FILTERS:
            value = table.get(key, ())
            value = [value] if isinstance(value, str) else value
            if not isinstance(value, list | tuple) or not all(
                isinstance(v, str) and v.strip() for v in value
            ):
                raise ListenError(f"{where}: {key} must be a list of names")
            table[key] = tuple(value)
        if not any(table[key] for key in FEED_FILTERS):
            raise ListenError(f"{where}: give sections, tags or authors to select its episodes")
        if table.get("artwork"):
            table["artwork"] = (base_dir / table["artwork"]).resolve()
            if table["artwork"].suffix.lower() not in (".png", ".jpg", ".jpeg"):
                raise ListenError(f"{where}: artwork must be a .png or .jpg file")
        if not isinstance(table.get("description", ""), str):
            raise ListenError(f"{where}: description must be text")
        feeds.append(SectionFeed(**table))
    return tuple(feeds)


@dataclass(frozen=True)
class FeedConfig:
    #: Item guid: "url" (the canonical URL, a permalink) or "slug" (a UUID made from the feed's
    #: podcast:guid and the episode slug, stable even if the article's URL changes).
    guid: str = "url"
    #: List at most this many episodes, newest first (0: all).
    max_items: int = 0
    #: podcast:locked: ask other platforms not to import the feed.
    locked: bool = False
    #: The site's section, tag and author feeds (`[[feeds]]`), beside feed.xml.
    feeds: tuple[SectionFeed, ...] = ()


@dataclass(frozen=True)
class ExtractRules:
    """A publisher's pins for extraction (`[extract]` in listen.toml). Automatic extraction is
    the fallback wherever a rule matches nothing."""

    #: CSS selectors for the element holding the article body (the first that matches wins).
    body: tuple[str, ...] = ()
    #: CSS selectors of elements never narrated (site furniture automatic rules miss).
    drop: tuple[str, ...] = ()
    #: CSS selectors for the headline.
    headline: tuple[str, ...] = ()
    #: How many heading levels start chapters: 1 = only the top level used in the body
    #: (deeper headings are read inside their chapter), 2 = the next level too, and so on.
    chapter_depth: int = 1
    #: A page larger than this is refused at once, local or fetched.
    max_page_mb: float = 20

    @property
    def max_page_bytes(self) -> int:
        return int(self.max_page_mb * 1024 * 1024)


@dataclass(frozen=True)
class Pauses:
    """Silence between units of speech, in milliseconds."""

    #: Between the parts of a sentence too long to synthesize in one piece.
    clause_ms: int = 150
    sentence_ms: int = 350
    paragraph_ms: int = 750
    chapter_ms: int = 1400


@dataclass(frozen=True)
class RenderConfig:
    voice: str = DEFAULT_VOICE
    format: str = "mp3"
    mp3_bitrate: str = "64k"
    aac_bitrate: str = "64k"
    loudness_lufs: float = -16.0
    true_peak_db: float = -1.5
    pauses: Pauses = field(default_factory=Pauses)
    #: Chapter art from the article's own pictures (each section's first; see listen.art).
    chapter_art: bool = True


@dataclass(frozen=True)
class SpeechConfig:
    """How the text is prepared for the voice (`[speech]`)."""

    #: The site's pronunciation lexicon (a TOML file, see listen.lexicon).
    lexicon: Path | None = None
    #: Normalize numbers, currency, dates, abbreviations... for speech.
    normalize: bool = True
    #: Announce "Chapter N." before each section's heading.
    chapter_numbers: bool = False
    #: Spoken before the article and after it; {title}, {show}, {byline} are filled in.
    intro: str = ""
    outro: str = ""
    #: A second voice preset for block quotations (and, with quote_voice_inline, for sentences
    #: that are mostly a direct quotation), where it speaks the page's language.
    quote_voice: str = ""
    quote_voice_inline: bool = False


@dataclass(frozen=True)
class CacheConfig:
    #: Where takes are cached (default: $LISTEN_CACHE_DIR, else the user cache folder).
    dir: Path | None = None
    #: Size limit; after a render that takes the cache past it, the least recently used takes
    #: are pruned.
    max_size: str = "2G"


@dataclass(frozen=True)
class StateConfig:
    """Locks and private state (where each episode was rendered from): never in the output
    folder, which is public. Default: beside it, `.<DIR>.listen-state`. Workers rendering
    into a shared folder need it on the shared folder too."""

    dir: Path | None = None


@dataclass(frozen=True)
class QueueConfig:
    """Rendering on Celery workers (`[queue]`); see listen.queue."""

    #: The Redis URL of the broker and result backend ($LISTEN_BROKER_URL overrides it).
    broker: str = ""
    #: The Celery queue the pages go to: sites can keep their own workers apart.
    name: str = "listen"
    #: Seconds before a job whose worker vanished (killed, machine lost) is delivered again.
    #: Must be longer than the longest render, or a slow job is started twice.
    visibility_timeout: int = 3600
    #: Transient failures (a page server's 5xx or timeout, a shared-folder error) are retried
    #: this many times, after retry_delay seconds, then twice that, and so on.
    max_retries: int = 3
    retry_delay: float = 10.0
    #: How long job states and batch records are kept on the broker.
    keep_days: float = 7.0


@dataclass(frozen=True)
class CheckConfig:
    """Hearing episodes with an offline recognizer (`[check]`); see listen.check."""

    #: Queue workers check each episode they render; `listen status` shows the suspects.
    after_render: bool = False
    #: A sentence is suspect when more than this share of its words differ from what was heard
    #: (0: any word that sounds different).
    threshold: float = 0.0


@dataclass(frozen=True)
class FetchConfig:
    """Fetching pages by URL (`[fetch]`)."""

    #: The API and queue workers fetch URLs that others give them, so by default they refuse
    #: hosts on loopback, private, link-local and cloud metadata addresses (see listen.fetch).
    allow_private_addresses: bool = False


@dataclass(frozen=True)
class ApiConfig:
    """`listen api` (`[api]`): the HTTP API for CMSs; see listen.api."""

    #: The bearer tokens' SHA-256 hashes, one a line (`listen api --new-token` makes a token
    #: and its line); $LISTEN_API_TOKENS adds tokens, comma-separated.
    tokens_file: Path | None = None
    #: Where episode.published, .failed and .removed events are POSTed, signed with the secret
    #: ($LISTEN_WEBHOOK_SECRET overrides it).
    webhook_url: str = ""
    webhook_secret: str = ""
    #: A delivery that fails is retried this many times, after webhook_retry_delay seconds,
    #: then twice that, and so on (at most an hour apart).
    webhook_retries: int = 8
    webhook_retry_delay: float = 5.0
    #: Without a broker: how many pages the API's own pool renders at once (each on its share
    #: of the cores).
    concurrency: int = 1


@dataclass(frozen=True)
class SiteConfig:
    show: ShowConfig = field(default_factory=ShowConfig)
    render: RenderConfig = field(default_factory=RenderConfig)
    feed: FeedConfig = field(default_factory=FeedConfig)
    extract: ExtractRules = field(default_factory=ExtractRules)
    cache: CacheConfig = field(default_factory=CacheConfig)
    speech: SpeechConfig = field(default_factory=SpeechConfig)
    queue: QueueConfig = field(default_factory=QueueConfig)
    state: StateConfig = field(default_factory=StateConfig)
    fetch: FetchConfig = field(default_factory=FetchConfig)
    check: CheckConfig = field(default_factory=CheckConfig)
    api: ApiConfig = field(default_factory=ApiConfig)
    voice_dirs: tuple[Path, ...] = ()
    #: `[voices] by_language`: (language tag, preset name) pairs: the voice for pages in it.
    voice_by_language: tuple[tuple[str, str], ...] = ()
    source: Path | None = None


def _known(cls: type, table: dict[str, Any], where: str) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(table) - names)
    if unknown:
        raise ListenError(f"{where}: unknown setting(s) {', '.join(unknown)}")
    return dict(table)


def load_config(path: Path | None = None) -> SiteConfig:
    """Read `path`, or ./listen.toml when it exists, else the defaults."""
    if path is None:
        candidate = Path.cwd() / DEFAULT_CONFIG_NAME
        if not candidate.is_file():
            return SiteConfig()
        path = candidate
    return parse_config(read_toml(path, "config"), base_dir=path.parent, source=path)


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """A TOML file's tables; every failure a one-line ListenError naming `what` it was."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ListenError(f"{what} file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ListenError(f"cannot read {what} {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ListenError(f"{path}: invalid TOML: {exc}") from None


def parse_config(data: dict[str, Any], base_dir: Path, source: Path | None = None) -> SiteConfig:
    show_table = _known(ShowConfig, data.get("show", {}), "[show]")
    if show_table.get("artwork"):
        show_table["artwork"] = (base_dir / show_table["artwork"]).resolve()
    render_table = _known(RenderConfig, data.get("render", {}), "[render]")
    if "pauses" in render_table:
        render_table["pauses"] = Pauses(**_known(Pauses, render_table["pauses"], "[render.pauses]"))
    if not isinstance(render_table.get("chapter_art", True), bool):
        raise ListenError("[render] chapter_art must be true or false")
    if render_table.get("format", "mp3") not in AUDIO_FORMATS:
        raise ListenError(f"[render] format must be one of {', '.join(AUDIO_FORMATS)}")
    extract_table = _known(ExtractRules, data.get("extract", {}), "[extract]")
    for key in ("body", "drop", "headline"):
        value = extract_table.get(key, ())
        extract_table[key] = (value,) if isinstance(value, str) else tuple(value)
    if not 1 <= int(extract_table.get("chapter_depth", 1)) <= 5:
        raise ListenError("[extract] chapter_depth must be 1 to 5")
    if not 0 < float(extract_table.get("max_page_mb", 20)) <= 1024:
        raise ListenError("[extract] max_page_mb must be more than 0 and at most 1024")
    speech_table = _known(SpeechConfig, data.get("speech", {}), "[speech]")
    if speech_table.get("lexicon"):
        speech_table["lexicon"] = (base_dir / speech_table["lexicon"]).resolve()
    for key in ("intro", "outro"):
        try:
            speech_table.get(key, "").format(title="", show="", byline="")
        except (KeyError, IndexError, ValueError):
            raise ListenError(f"[speech] {key}: only {{title}}, {{show}}, {{byline}}") from None
    cache_table = _known(CacheConfig, data.get("cache", {}), "[cache]")
    if cache_table.get("dir"):
        cache_table["dir"] = (base_dir / Path(cache_table["dir"]).expanduser()).resolve()
    try:
        parse_size(str(cache_table.get("max_size", "2G")))
    except ValueError as exc:
        raise ListenError(f"[cache] max_size: {exc}") from None
    state_table = _known(StateConfig, data.get("state", {}), "[state]")
    if state_table.get("dir"):
        state_table["dir"] = (base_dir / Path(state_table["dir"]).expanduser()).resolve()
    feed_table = _known(FeedConfig, data.get("feed", {}), "[feed]")
    if feed_table.get("guid", "url") not in ("url", "slug"):
        raise ListenError('[feed] guid must be "url" or "slug"')
    if "feeds" in feed_table:
        raise ListenError("[feed]: section feeds are [[feeds]] tables of their own")
    feed_table["feeds"] = parse_feeds(data.get("feeds", []), base_dir)
    queue_table = _known(QueueConfig, data.get("queue", {}), "[queue]")
    for key, low in (("visibility_timeout", 1), ("max_retries", 0), ("retry_delay", 0),
                     ("keep_days", 0)):  # fmt: skip
        value = queue_table.get(key, low)
        if not isinstance(value, int | float) or isinstance(value, bool) or value < low:
            raise ListenError(f"[queue] {key} must be a number of at least {low}")
    fetch_table = _known(FetchConfig, data.get("fetch", {}), "[fetch]")
    if not isinstance(fetch_table.get("allow_private_addresses", False), bool):
        raise ListenError("[fetch] allow_private_addresses must be true or false")
    check_table = _known(CheckConfig, data.get("check", {}), "[check]")
    if not isinstance(check_table.get("after_render", False), bool):
        raise ListenError("[check] after_render must be true or false")
    threshold = check_table.get("threshold", CheckConfig.threshold)
    number = isinstance(threshold, int | float) and not isinstance(threshold, bool)
    if not number or not 0 <= threshold <= 1:
        raise ListenError("[check] threshold must be a share of words, from 0 to 1")
    api_table = _api_table(data.get("api", {}), base_dir)
    voices_table = data.get("voices", {})
    unknown = sorted(set(voices_table) - {"dirs", "by_language"})
    if unknown:
        raise ListenError(f"[voices]: unknown setting(s) {', '.join(unknown)}")
    voice_dirs = tuple((base_dir / d).resolve() for d in voices_table.get("dirs", []))
    by_language = voices_table.get("by_language", {})
    if not isinstance(by_language, dict) or not all(
        isinstance(v, str) and v for v in by_language.values()
    ):
        raise ListenError('[voices] by_language maps languages to voice names: { fr = "..." }')
    try:
        return SiteConfig(
            show=ShowConfig(**show_table),
            render=RenderConfig(**render_table),
            feed=FeedConfig(**feed_table),
            extract=ExtractRules(**extract_table),
            cache=CacheConfig(**cache_table),
            speech=SpeechConfig(**speech_table),
            queue=QueueConfig(**queue_table),
            state=StateConfig(**state_table),
            fetch=FetchConfig(**fetch_table),
            check=CheckConfig(**check_table),
            api=ApiConfig(**api_table),
            voice_dirs=voice_dirs,
            voice_by_language=tuple((k.lower(), v) for k, v in by_language.items()),
            source=source,
        )
    except TypeError as exc:
        raise ListenError(f"invalid config: {exc}") from None


def _api_table(table: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    table = _known(ApiConfig, table, "[api]")
    if table.get("tokens_file"):
        table["tokens_file"] = (base_dir / Path(table["tokens_file"]).expanduser()).resolve()
    if not re.fullmatch(r"(https?://\S+)?", str(table.get("webhook_url", ""))):
        raise ListenError("[api] webhook_url must be an http(s) URL")
    for key, low in (("webhook_retries", 0), ("webhook_retry_delay", 0), ("concurrency", 1)):
        value = table.get(key, low)
        if not isinstance(value, int | float) or isinstance(value, bool) or value < low:
            raise ListenError(f"[api] {key} must be a number of at least {low}")
    return table


AUDIO_FORMATS = ("mp3", "m4a")


# --- voice presets ---------------------------------------------------------------------------

ENGINES = ("piper", "hibari", "pyttsx3")


@dataclass(frozen=True)
class VoicePreset:
    """One `voices/NAME.toml`: which engine speaks, with which voice, how fast."""

    name: str
    engine: str
    #: pyttsx3: the system voice id or name (matched loosely); hibari: its voice name
    #: (default "heart"); piper: unused.
    voice: str = ""
    #: piper: a model name (`en_US-joe-medium`) or a path to an .onnx file; hibari: an .onnx
    #: export to load instead of the voice's own file.
    model: str = ""
    #: piper: an importable package that ships the model (its `model_path()` or `data/`).
    package: str = ""
    #: Speaking rate relative to the voice's natural pace (1.0 = unchanged).
    rate: float = 1.0
    language: str = "en-US"
    description: str = ""
    path: Path | None = None


def builtin_voice_dirs() -> list[Path]:
    """The presets shipped with listen: inside the wheel, or `voices/` of a source checkout."""
    here = Path(__file__).resolve().parent
    return [d for d in (here / "voices", here.parents[1] / "voices") if d.is_dir()]


def voice_search_path(config: SiteConfig) -> list[Path]:
    env = [Path(p) for p in os.environ.get("LISTEN_VOICES_PATH", "").split(os.pathsep) if p]
    return [*config.voice_dirs, *env, *builtin_voice_dirs()]


def load_preset(path: Path) -> VoicePreset:
    table = read_toml(path, "voice preset")
    table.setdefault("name", path.stem)
    table.pop("path", None)
    table = _known(VoicePreset, table, str(path))
    engine = str(table.get("engine", ""))
    if engine not in ENGINES and not re.fullmatch(r"[\w.]+:\w+", engine):
        raise ListenError(
            f"{path}: engine must be one of {', '.join(ENGINES)}, or module:Class of a plugin"
        )
    try:
        rate = float(table.get("rate", 1.0))
    except (TypeError, ValueError):
        rate = 0.0
    if not 0.25 <= rate <= 4.0:
        raise ListenError(f"{path}: rate must be a number between 0.25 and 4")
    table["rate"] = rate
    return VoicePreset(**table, path=path)


def load_presets(config: SiteConfig) -> dict[str, VoicePreset]:
    """All presets by name; an earlier folder in the search path wins."""
    presets: dict[str, VoicePreset] = {}
    for folder in voice_search_path(config):
        for path in sorted(folder.glob("*.toml")):
            preset = load_preset(path)
            presets.setdefault(preset.name, preset)
    return presets


def find_preset(name: str, config: SiteConfig) -> VoicePreset:
    """A preset by name, else a system voice by any name `listen voices` lists (`system:fr`,
    `gmw/de`, `German`)."""
    presets = load_presets(config)
    if name in presets:
        return presets[name]
    from listen.voices import system_preset  # (it lists the platform's voices)

    if (preset := system_preset(name)) is not None:
        return preset
    known = ", ".join(sorted(presets)) or "none"
    raise ListenError(f"unknown voice {name!r} (known: {known}, or system:LANGUAGE; "
                      f"see listen voices)")  # fmt: skip
