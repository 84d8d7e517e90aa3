"""The API's parts on their own: the public-address rule of fetches (redirects included),
webhook signatures, bearer tokens, and `listen remove`."""

from __future__ import annotations

import http.server
import ipaddress
import json
import threading
import time
from pathlib import Path

import feedparser
import pytest
from helpers import CONFIG, run_listen, write_articles

from listen import fetch
from listen.config import parse_config
from listen.errors import ListenError
from listen.fetch import Limits, address_refusal, check_fetchable, fetch_page
from listen.service import hash_token, load_token_hashes, new_token, token_allowed
from listen.webhooks import Event, signature, verify


@pytest.mark.parametrize(("address", "kind"), [
    ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("::1", "loopback"),
    ("10.0.0.7", "private"), ("172.16.3.4", "private"), ("192.168.1.1", "private"),
    ("fd12:3456::1", "private"), ("169.254.1.1", "link-local"), ("fe80::1", "link-local"),
    ("169.254.169.254", "metadata"), ("fd00:ec2::254", "metadata"),
    ("100.100.100.200", "metadata"), ("100.64.0.1", "reserved"), ("0.0.0.0", "unspecified"),
    ("224.0.0.251", "multicast"), ("::ffff:10.0.0.1", "private"), ("2002:a00:1::", "private"),
    ("64:ff9b::a9fe:a9fe", "metadata"), ("8.8.8.8", None), ("2606:4700:4700::1111", None),
    ("::ffff:1.1.1.1", None),
])  # fmt: skip
def test_what_counts_as_a_private_address(address: str, kind: str | None) -> None:
    refusal = address_refusal(ipaddress.ip_address(address))
    assert (refusal is None) if kind is None else (kind in refusal), refusal


@pytest.mark.parametrize("url", ["http://localhost/", "http://127.1/", "http://0x7f000001/",
                                 "http://2130706433/", "http://[::1]:8080/", "https://10.1.2.3/"])
def test_names_and_spellings_of_private_addresses_are_refused(url: str) -> None:
    with pytest.raises(ListenError, match="refusing to fetch from"):
        check_fetchable(url)
    with pytest.raises(ListenError, match="refusing to fetch from"):
        fetch_page(url, Limits(public_only=True, timeout=2))


class Redirecting:
    """A server on 127.0.0.1 that redirects every request to `target`."""

    def __init__(self, target: str) -> None:
        self.hits = 0
        served = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                served.hits += 1
                self.send_response(302)
                self.send_header("Location", target)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/story/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def test_every_redirect_is_checked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    # 127.0.0.1 stands for a public host here; 127.0.0.2 for a private one.
    real = fetch.address_refusal
    monkeypatch.setattr(fetch, "address_refusal", lambda address: (
        None if str(address) == "127.0.0.1" else real(address)))  # fmt: skip
    server = Redirecting("http://127.0.0.2:9/admin")
    try:
        with pytest.raises(ListenError, match=r"refusing to fetch from 127\.0\.0\.2: a loopback"):
            fetch_page(server.url, Limits(public_only=True, timeout=5))
    finally:
        server.httpd.shutdown()
    assert server.hits == 1
    # Unguarded (a local render by an editor), the same redirect is followed.
    server = Redirecting("http://127.0.0.2:9/admin")
    try:
        with pytest.raises(ListenError, match="connection refused"):
            fetch_page(server.url, Limits(timeout=5))
    finally:
        server.httpd.shutdown()


def test_webhook_signatures() -> None:
    event = Event("episode.published", "a-story", "0123456789ab", {"audio": "https://x/a.mp3"})
    body = event.body()
    assert json.loads(body) == {"event": "episode.published", "slug": "a-story",
                                "job": "0123456789ab", "urls": {"audio": "https://x/a.mp3"},
                                "reason": None}  # fmt: skip
    now = int(time.time())
    header = signature(body, "secret", now)
    assert header.startswith(f"t={now},v1=") and len(header.split("v1=")[1]) == 64
    assert verify(body, header, "secret")
    assert not verify(body + b" ", header, "secret")
    assert not verify(body, header, "another secret")
    assert not verify(body, header.replace(f"t={now}", f"t={now + 1}"), "secret")
    assert not verify(body, signature(body, "secret", now - 3600), "secret")  # a replay
    assert not verify(body, "v1=00", "secret")


def test_tokens_are_stored_hashed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LISTEN_API_TOKENS", raising=False)
    token, line = new_token()
    assert line == hash_token(token) and token not in line and len(token) >= 40
    tokens = tmp_path / "tokens"
    tokens.write_text(f"# the CMS\n{line} wordpress-production\n\n")
    config = parse_config({"api": {"tokens_file": "tokens"}}, tmp_path)
    hashes = load_token_hashes(config)
    assert hashes == (line,)
    assert token_allowed(token, hashes) and not token_allowed(token[:-1], hashes)
    monkeypatch.setenv("LISTEN_API_TOKENS", "from-the-env, another")
    assert token_allowed("another", load_token_hashes(config))
    tokens.write_text(f"{token}\n")  # a token in clear is refused: the file holds hashes
    with pytest.raises(ListenError, match="line 1: not a token hash"):
        load_token_hashes(config)
    monkeypatch.delenv("LISTEN_API_TOKENS")
    with pytest.raises(ListenError, match="no API tokens"):
        load_token_hashes(parse_config({}, tmp_path))


def test_listen_api_new_token() -> None:
    done = run_listen("api", "--new-token")
    token = done.stdout.split("token (give it to the CMS): ")[1].split()[0]
    assert f"line for [api] tokens_file: {hash_token(token)}" in done.stdout


def test_listen_remove(tmp_path: Path) -> None:
    pages = write_articles(tmp_path / "pages", 3)
    out = tmp_path / "public"
    run_listen("render", "--config", CONFIG, "--out", out, "--voice", "espeak-en-us", "--quiet",
               *pages)  # fmt: skip
    before = sorted(p.name for p in (out / "episodes").iterdir())

    refused = run_listen("remove", "story-001", "no-such-story", "--out", out, "--config",
                         CONFIG, check=False)  # fmt: skip
    assert refused.returncode == 1
    assert refused.stderr == f"error: no episode no-such-story in {out}\n"
    assert sorted(p.name for p in (out / "episodes").iterdir()) == before  # nothing removed

    done = run_listen("remove", "story-001", "story-003", "--out", out, "--config", CONFIG)
    assert done.stdout == "removed story-001\nremoved story-003\n"
    left = sorted(p.name for p in (out / "episodes").iterdir())
    assert left == [name for name in before if name.startswith("story-002")]
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert [entry.link for entry in feed.entries] == [
        "https://www.example-news.org/2026/11/story-002/"]  # fmt: skip
    playlist = json.loads((out / "playlist.json").read_text())
    assert [entry["slug"] for entry in playlist["episodes"]] == ["story-002"]
    state = tmp_path / ".public.listen-state" / "episodes"
    assert sorted(p.name for p in state.glob("*.json")) == ["story-002.json"]
    assert run_listen("remove", "../public", "--out", out, check=False).returncode == 1
