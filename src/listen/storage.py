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
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

from listen.atomic import locked, remove_stale_temps
from listen.config import FeedConfig, ShowConfig
from listen.errors import ListenError
from listen.feed import write_feed
from listen.mix import MixedAudio
from listen.player import write_embed_page, write_player_assets
from listen.publish import (
    EPISODES,
    Manifest,
    check_out_dir,
    episode_paths,
    publish_artwork,
    publish_episode,
    read_manifest,
)


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

    def publish_episode(self, manifest: Manifest, audio: MixedAudio, show: ShowConfig
                        ) -> tuple[str, str]:  # fmt: skip
        """Publish (or replace) an episode, its manifest last; return where its manifest and
        audio are (paths here, object keys or URLs elsewhere)."""

    def locations(self, manifest: Manifest) -> tuple[str, str]:
        """Where a published episode's manifest and audio are."""

    def publish_page(self, manifest: Manifest, show: ShowConfig) -> None:
        """The episode's embed page (player alone, for an iframe)."""

    def publish_shared(self, show: ShowConfig) -> None:
        """The files every episode shares: the player and the show's artwork."""

    def rebuild_feed(self, show: ShowConfig, feed: FeedConfig) -> str:
        """Rebuild the feed from the published manifests; one rebuild at a time."""


class FolderDestination:
    """A folder (local or a shared mount) that a web server serves as is."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def __repr__(self) -> str:
        return f"FolderDestination({str(self.root)!r})"

    def check(self) -> None:
        check_out_dir(self.root)

    def published(self, slug: str, fmt: str) -> Manifest | None:
        paths = episode_paths(self.root, slug, fmt)
        if not paths["manifest"].is_file():
            return None
        manifest = read_manifest(paths["manifest"])
        if (
            manifest is None
            or not paths["audio"].is_file()
            or paths["audio"].stat().st_size != manifest.audio_bytes
            or not all(paths[name].is_file() for name in ("chapters", "vtt"))
        ):
            return None
        return manifest

    def previous(self, slug: str, fmt: str) -> Manifest | None:
        """The episode's manifest as it is, whole or not (to keep its first `added` date)."""
        path = episode_paths(self.root, slug, fmt)["manifest"]
        return read_manifest(path) if path.is_file() else None

    def publish_episode(self, manifest: Manifest, audio: MixedAudio, show: ShowConfig
                        ) -> tuple[str, str]:  # fmt: skip
        episodes = self.root / EPISODES
        with locked(episodes / f".{manifest.slug}.lock"):
            # Holding the lock, no other render writes this episode: its temp files are a
            # killed writer's leftovers.
            remove_stale_temps(episodes, prefix=f".{manifest.slug}.", older_than_seconds=0)
            publish_episode(self.root, manifest, audio, show.title)
            write_embed_page(self.root, manifest, show)
        return self.locations(manifest)

    def locations(self, manifest: Manifest) -> tuple[str, str]:
        folder = self.root / EPISODES
        return str(folder / f"{manifest.slug}.json"), str(folder / manifest.audio)

    def publish_page(self, manifest: Manifest, show: ShowConfig) -> None:
        write_embed_page(self.root, manifest, show)

    def publish_shared(self, show: ShowConfig) -> None:
        with locked(self.root / ".assets.lock"):
            # Holding the lock, temp files of the shared files are a killed writer's leftovers.
            remove_stale_temps(self.root / "player", older_than_seconds=0)
            write_player_assets(self.root)
            if show.artwork:
                remove_stale_temps(self.root, prefix=f".{show.artwork.name}.",
                                   older_than_seconds=0)  # fmt: skip
                publish_artwork(self.root, show.artwork)

    def sweep(self) -> None:
        """Remove temp files that renders killed long ago left in the episodes folder."""
        if (self.root / EPISODES).is_dir():
            remove_stale_temps(self.root / EPISODES)

    def rebuild_feed(self, show: ShowConfig, feed: FeedConfig) -> str:
        if not self.root.is_dir():
            raise ListenError(f"output folder not found: {self.root}")
        return str(write_feed(self.root, show, feed))


def open_destination(where: str | Path | Destination) -> Destination:
    """The destination named on a command line or in a queued job (a folder today), or
    `where` itself when it already is one."""
    if not isinstance(where, str | Path):
        return where
    text = str(where)
    scheme = urlsplit(text).scheme.lower()
    if len(scheme) > 1 and "://" in text:  # (not a Windows drive letter)
        raise ListenError(f"publishing to {scheme}:// is not supported yet: use a folder")
    return FolderDestination(Path(where))


__all__ = ["Destination", "FolderDestination", "open_destination"]
