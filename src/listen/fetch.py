"""Fetching an article page by URL, defensively: pages come from CMSs many people write into.

Only http and https; a connect/read timeout; a size cap read incrementally (a hostile server
cannot make us hold more than the cap); a redirect limit, each hop checked again; one clear
error per failure.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from listen import __version__
from listen.errors import ListenError, TransientError

#: HTTP statuses that say "try again later" rather than "no such page".
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})

TIMEOUT_SECONDS = 20.0
MAX_PAGE_BYTES = 20 * 1024 * 1024
MAX_REDIRECTS = 5
SCHEMES = ("http", "https")


def is_url(source: str) -> bool:
    return urlsplit(source).scheme.lower() in (*SCHEMES, "ftp", "file", "data", "javascript")


@dataclass(frozen=True)
class Limits:
    timeout: float = TIMEOUT_SECONDS
    max_bytes: int = MAX_PAGE_BYTES
    max_redirects: int = MAX_REDIRECTS


class _Redirects(urllib.request.HTTPRedirectHandler):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.seen = 0

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        self.seen += 1
        if self.seen > self.limit:
            raise ListenError(f"too many redirects (more than {self.limit}) for {req.full_url}")
        if urlsplit(newurl).scheme.lower() not in SCHEMES:
            raise ListenError(f"refusing a redirect to a non-http(s) URL: {newurl}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch_page(url: str, limits: Limits | None = None) -> bytes:
    """The page's bytes, or a ListenError saying what went wrong."""
    limits = limits or Limits()
    scheme = urlsplit(url).scheme.lower()
    if scheme not in SCHEMES:
        raise ListenError(f"only http and https pages can be fetched, not {scheme}: {url}")
    opener = urllib.request.build_opener(_Redirects(limits.max_redirects))
    request = urllib.request.Request(
        url, headers={"User-Agent": f"listen/{__version__} (+audio edition renderer)"}
    )
    try:
        with opener.open(request, timeout=limits.timeout) as response:
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > limits.max_bytes:
                raise ListenError(f"page too large ({int(declared)} bytes, limit "
                                  f"{limits.max_bytes}): {url}")  # fmt: skip
            data = response.read(limits.max_bytes + 1)
    except urllib.error.HTTPError as exc:
        error = TransientError if exc.code in TRANSIENT_STATUSES else ListenError
        raise error(f"HTTP {exc.code} {exc.reason} fetching {url}") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise TransientError(f"timed out after {limits.timeout:g} s fetching {url}") from None
        if isinstance(reason, ConnectionError):  # refused or reset: the server may come back
            raise TransientError(f"cannot fetch {url}: {reason}") from None
        raise ListenError(f"cannot fetch {url}: {reason}") from None
    except TimeoutError:
        raise TransientError(f"timed out after {limits.timeout:g} s fetching {url}") from None
    except ConnectionError as exc:
        raise TransientError(f"cannot fetch {url}: {exc}") from None
    except (OSError, ValueError) as exc:
        raise ListenError(f"cannot fetch {url}: {exc}") from None
    if len(data) > limits.max_bytes:
        raise ListenError(f"page too large (over {limits.max_bytes} bytes): {url}")
    return data
