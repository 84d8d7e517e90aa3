"""Where episodes are published: the one seam between the pipeline and storage.

The pipeline makes an episode in a private temporary folder and then hands it to a
`Destination`, which owns everything about the published files: their names, atomic
replacement, the lock that lets renders on many machines publish into one place, and reading
back what is there (for unchanged-episode reuse and the feed). `FolderDestination` is a folder
on a local disk or a shared mount (NFS); an object store (S3, GCS) is another implementation
of the same protocol, with no change to the pipeline or the queue:

- `published` reads `episodes/<slug>.json` and checks the other objects' sizes (HEAD);
- `publish_episode` uploads audio, chapters and transcript first and the manifest last (an
  object store's PUT is atomic per object, so the manifest's arrival is the publication);
- the per-episode and feed locks, which here are flock(2) on the shared folder, become a
  Redis lock (the broker is already there) or the store's conditional writes;
- `rebuild_feed` lists `episodes/*.json` and PUTs feed.xml when its bytes changed.

Everything under the output folder is public: a web server serves it and CDNs sync it. Locks
and private state (where each episode was rendered from: a local path, a CMS preview URL) live
in a state folder outside it, beside it by default (`[state] dir` moves it).
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

from listen.atomic import locked, remove_stale_temps, write_bytes_if_changed
from listen.config import FeedConfig, ShowConfig
from listen.errors import ListenError
from listen.feed import episode_url, write_feed
from listen.mix import MixedAudio
from listen.player import write_embed_page, write_player_assets
from listen.publish import (
    EPISODES,
    Manifest,
    check_out_dir,
    dumps,
    episode_paths,
    publish_artwork,
    publish_episode,
    read_manifest,
    slugify,
)

#: The default state folder of DIR: `.<DIR's name>` + this, in DIR's parent folder.
STATE_SUFFIX = ".listen-state"
#: Lock files earlier versions kept inside the output folder (removed when found).
LEGACY_LOCKS = (".feed.lock", ".assets.lock")


@dataclass(frozen=True)
class EpisodeRecord:
    """What a re-render of a published episode needs and its public files must not show."""

    slug: str
    #: The page as it was given: a local path or the URL fetched.
    source: str
    #: The site config it was rendered with (absolute path), if any.
    config: str | None
    voice: str
    format: str


def default_state_dir(out: Path) -> Path:
    """Beside the output folder (where it really is, so a symlinked mount keeps its state on
    the same shared folder): `/srv/public` -> `/srv/.public.listen-state`."""
    real = out.resolve()
    return real.parent / f".{real.name or 'root'}{STATE_SUFFIX}"


@runtime_checkable
class Destination(Protocol):
    """Published episodes, the player, the artwork and the feed of one show."""

    def check(self) -> None:
        """Fail early (a ListenError) if nothing can be published here."""

    def published(self, slug: str, fmt: str) -> Manifest | None:
        """The episode `slug` as published, if all its files are there and whole."""

    def previous(self, slug: str, fmt: str) -> Manifest | None:
        """The episode's manifest as it is, whole or not (to keep its first `added` date)."""

    def sweep(self) -> None:
        """Clear what writers killed long ago left behind (before publishing)."""

    def publish_episode(self, manifest: Manifest, audio: MixedAudio, show: ShowConfig,
                        art: Mapping[str, bytes] | None = None) -> tuple[str, str]:  # fmt: skip
        """Publish (or replace) an episode and its art (name under episodes/ -> JPEG bytes),
        its manifest last; return where its manifest and audio are (paths here, object keys
        or URLs elsewhere)."""

    def locations(self, manifest: Manifest) -> tuple[str, str]:
        """Where a published episode's manifest and audio are."""

    def publish_page(self, manifest: Manifest, show: ShowConfig) -> None:
        """The episode's embed page (player alone, for an iframe)."""

    def publish_shared(self, show: ShowConfig) -> None:
        """The files every episode shares: the player and the show's artwork."""

    def rebuild_feed(self, show: ShowConfig, feed: FeedConfig) -> str:
        """Rebuild the feed from the published manifests; one rebuild at a time."""

    def remember(self, record: EpisodeRecord) -> None:
        """Keep an episode's private record (never published)."""

    def remove(self, slug: str) -> bool:
        """Unpublish an episode: its files (the manifest first) and its private record; False
        if there was no such episode. The feed is the caller's to rebuild."""


class FolderDestination:
    """A folder (local or a shared mount) that a web server serves as is, and its state
    folder (locks, private records) outside it."""

    def __init__(self, root: Path, state: Path | None = None) -> None:
        self.root = root
        self.state = state or default_state_dir(root)

    def __repr__(self) -> str:
        return f"FolderDestination({str(self.root)!r}, state={str(self.state)!r})"

    def check(self) -> None:
        check_out_dir(self.root)
        root, state = self.root.resolve(), self.state.resolve()
        if state.is_relative_to(root):
            raise ListenError(f"the state folder {self.state} is inside the output folder "
                              f"{self.root}: it would be published")  # fmt: skip
        if state.exists() and not state.is_dir():
            raise ListenError(f"the state folder {self.state} is a file, not a folder")

    def published(self, slug: str, fmt: str) -> Manifest | None:
        paths = episode_paths(self.root, slug, fmt)
        if not paths["manifest"].is_file():
            return None
        manifest = read_manifest(paths["manifest"])
        if (
            manifest is None
            or not paths["audio"].is_file()
            or paths["audio"].stat().st_size != manifest.audio_bytes
            or not all(path.is_file() for name, path in paths.items() if name != "audio")
            or not all((self.root / EPISODES / name).is_file() for name in manifest.art())
        ):
            return None
        return manifest

    def previous(self, slug: str, fmt: str) -> Manifest | None:
        """The episode's manifest as it is, whole or not (to keep its first `added` date)."""
        path = episode_paths(self.root, slug, fmt)["manifest"]
        return read_manifest(path) if path.is_file() else None

    def publish_episode(self, manifest: Manifest, audio: MixedAudio, show: ShowConfig,
                        art: Mapping[str, bytes] | None = None) -> tuple[str, str]:  # fmt: skip
        with self._writing(manifest.slug):
            publish_episode(self.root, manifest, audio, show.title, art,
                            lambda name: episode_url(show, name))  # fmt: skip
            write_embed_page(self.root, manifest, show)
        return self.locations(manifest)

    def locations(self, manifest: Manifest) -> tuple[str, str]:
        folder = self.root / EPISODES
        return str(folder / f"{manifest.slug}.json"), str(folder / manifest.audio)

    def publish_page(self, manifest: Manifest, show: ShowConfig) -> None:
        # (An unchanged episode: a render killed while it wrote the embed page, after the
        # manifest, left that page's temp file.)
        with self._writing(manifest.slug):
            write_embed_page(self.root, manifest, show)

    @contextlib.contextmanager
    def _writing(self, slug: str) -> Iterator[None]:
        """Hold the episode's lock, its killed writers' temp files cleared: holding it, no other
        render writes this episode, so its temp files can only be leftovers."""
        with locked(self.state / EPISODES / f"{slug}.lock"):
            remove_stale_temps(self.root / EPISODES, prefix=f".{slug}.", older_than_seconds=0)
            yield

    def publish_shared(self, show: ShowConfig) -> None:
        with locked(self.state / "assets.lock"):
            # Holding the lock, temp files of the shared files are a killed writer's leftovers.
            remove_stale_temps(self.root / "player", older_than_seconds=0)
            write_player_assets(self.root)
            if show.artwork:
                remove_stale_temps(self.root, prefix=f".{show.artwork.name}.",
                                   older_than_seconds=0)  # fmt: skip
                publish_artwork(self.root, show.artwork)

    def sweep(self) -> None:
        """Remove temp files that renders killed long ago left in the episodes folder, and the
        lock files earlier versions kept in the output folder."""
        episodes = self.root / EPISODES
        legacy = [self.root / name for name in LEGACY_LOCKS]
        if episodes.is_dir():
            remove_stale_temps(episodes)
            for art in episodes.iterdir():  # (each episode's art folder)
                if art.is_dir():
                    remove_stale_temps(art)
            legacy += episodes.glob(".*.lock")
        for lock in legacy:
            with contextlib.suppress(OSError):
                lock.unlink()

    def rebuild_feed(self, show: ShowConfig, feed: FeedConfig) -> str:
        if not self.root.is_dir():
            raise ListenError(f"output folder not found: {self.root}")
        return str(write_feed(self.root, show, feed, lock=self.state / "feed.lock"))

    def remember(self, record: EpisodeRecord) -> None:
        try:
            write_bytes_if_changed(self.state / EPISODES / f"{record.slug}.json",
                                   dumps(asdict(record)).encode("utf-8"))  # fmt: skip
        except OSError as exc:
            raise ListenError(f"cannot write to {self.state}: {exc.strerror or exc}") from None


    def remove(self, slug: str) -> bool:
        if slugify(slug) != slug:  # (a slug is never a path or a glob pattern)
            return False
        episodes = self.root / EPISODES
        with locked(self.state / EPISODES / f"{slug}.lock"):
            manifest = episodes / f"{slug}.json"
            files = sorted(episodes.glob(f"{slug}.*"))
            folder = episodes / slug  # (chapter art)
            if not files and not folder.is_dir():
                return False
            try:
                # The manifest first: without it the episode is gone for the feed and the
                # player, whatever else a crash might leave.
                for path in sorted(files, key=lambda path: path != manifest):
                    path.unlink(missing_ok=True)
                if folder.is_dir():
                    shutil.rmtree(folder)
                (self.state / EPISODES / f"{slug}.json").unlink(missing_ok=True)
            except OSError as exc:
                raise ListenError(f"cannot remove {slug} from {self.root}: "
                                  f"{exc.strerror or exc}") from None  # fmt: skip
        return True


def open_destination(where: str | Path | Destination, state: Path | None = None) -> Destination:
    """The destination named on a command line or in a queued job (a folder today, its state
    folder `state` or the default one beside it), or `where` itself when it already is one."""
    if not isinstance(where, str | Path):
        return where
    text = str(where)
    scheme = urlsplit(text).scheme.lower()
    if len(scheme) > 1 and "://" in text:  # (not a Windows drive letter)
        raise ListenError(f"publishing to {scheme}:// is not supported yet: use a folder")
    return FolderDestination(Path(where), state)


__all__ = ["Destination", "EpisodeRecord", "FolderDestination", "default_state_dir",
           "open_destination"]  # fmt: skip
