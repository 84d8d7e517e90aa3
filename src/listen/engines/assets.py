"""A voice's text front end starts faster from marshal copies of its JSON data.

hibari's G2P reads misaki's lexicons and its tagger, 3.4 MB of gzipped JSON, when it meets its
first sentence: 0.37 s of every render's first take, and so of every edit's re-render. Python's
marshal, with the garbage collector paused, reads the same dicts in 0.15-0.20 s. A copy is made
on the first load into the user cache folder, beside the optimized models
(`listen.engines.onnx`), named by the asset's digest and the marshal format (which changes
between Python versions), and is never in the way: a damaged copy is made again, and an
unwritable cache falls back to the JSON itself.
"""

from __future__ import annotations

import gc
import logging
import marshal
import sys
from collections.abc import Callable
from pathlib import Path

from listen.atomic import atomic_path
from listen.cache import default_cache_dir
from listen.engines.base import model_digest

log = logging.getLogger(__name__)

#: marshal's format is Python's own and may change with any release.
MARSHAL_FORMAT = f"py{sys.version_info.major}{sys.version_info.minor}-m{marshal.version}"


def marshal_copy_path(asset: Path) -> Path:
    """Where the marshal copy of the JSON file `asset` is kept."""
    name = f"{asset.name.split('.', 1)[0]}-{model_digest(asset)[:32]}-{MARSHAL_FORMAT}.marshal"
    return default_cache_dir() / "models" / name


def load_json_asset(asset: Path, load_json: Callable[[], object]) -> object:
    """What `load_json()` (the library's own reader of `asset`) returns, read from its marshal
    copy when there is one; otherwise read by `load_json` and the copy made for next time."""
    try:
        copy = marshal_copy_path(asset)
    except OSError as exc:
        log.debug("no marshal copy of %s: %s", asset.name, exc)
        return load_json()
    try:
        return _without_collector(marshal.loads, copy.read_bytes())
    except FileNotFoundError:  # the first load: made below
        pass
    except (EOFError, ValueError, TypeError) as exc:  # damaged: made again below
        log.warning("marshal copy of %s unreadable (%s); reading the JSON", asset.name, exc)
    except OSError as exc:
        log.debug("marshal copy of %s unreadable: %s", asset.name, exc)
        return load_json()
    data = load_json()
    try:
        with atomic_path(copy) as tmp:
            tmp.write_bytes(marshal.dumps(data))
    except (OSError, ValueError) as exc:  # the next load tries again
        log.debug("no marshal copy of %s: %s", asset.name, exc)
    return data


def _without_collector(loads: Callable[[bytes], object], data: bytes) -> object:
    """`loads(data)` with the cyclic garbage collector paused: while hundreds of thousands of
    objects are made, none of them garbage, it would walk them again and again (in a render's
    process, with its modules loaded, that added half again to the time)."""
    if not gc.isenabled():
        return loads(data)
    gc.disable()
    try:
        return loads(data)
    finally:
        gc.enable()
