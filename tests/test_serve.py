"""`listen serve`: byte ranges as podcast apps and browsers request them."""

from __future__ import annotations

import threading
import urllib.request
from pathlib import Path

import pytest

from listen.serve import make_server


@pytest.fixture
def served(tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "episodes").mkdir()
    audio = bytes(range(256)) * 400
    (tmp_path / "episodes" / "a.mp3").write_bytes(audio)
    (tmp_path / "feed.xml").write_text("<rss/>")
    server = make_server(tmp_path, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", audio
    server.shutdown()
    server.server_close()


def get(url: str, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    try:
        return urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}))
    except urllib.error.HTTPError as error:
        return error


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [("bytes=0-99", 0, 99), ("bytes=1000-", 1000, None), ("bytes=-500", None, None)],
)
def test_range_requests(served, header: str, start, end) -> None:  # type: ignore[no-untyped-def]
    base, audio = served
    response = get(f"{base}/episodes/a.mp3", {"Range": header})
    body = response.read()
    size = len(audio)
    if start is None:
        start, end = size - 500, size - 1
    end = size - 1 if end is None else end
    assert response.status == 206
    assert response.headers["Content-Range"] == f"bytes {start}-{end}/{size}"
    assert response.headers["Content-Type"] == "audio/mpeg"
    assert body == audio[start : end + 1]


def test_whole_file_and_mime_types(served) -> None:  # type: ignore[no-untyped-def]
    base, audio = served
    response = get(f"{base}/episodes/a.mp3")
    assert response.status == 200 and response.read() == audio
    assert response.headers["Accept-Ranges"] == "bytes"
    assert get(f"{base}/feed.xml").headers["Content-Type"].startswith("application/rss+xml")


def test_unsatisfiable_range(served) -> None:  # type: ignore[no-untyped-def]
    base, audio = served
    response = get(f"{base}/episodes/a.mp3", {"Range": f"bytes={len(audio) + 10}-"})
    assert response.status == 416
    assert response.headers["Content-Range"] == f"bytes */{len(audio)}"
