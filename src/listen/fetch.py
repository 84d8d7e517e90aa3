"""Fetching an article page by URL, defensively: pages come from CMSs many people write into.

Only http and https; a connect/read timeout; a size cap read incrementally (a hostile server
cannot make us hold more than the cap); a redirect limit, each hop checked again; one clear
error per failure.
"""

from __future__ import annotations

import errno
import socket
import ssl
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


#: getaddrinfo's "this name has no address" (EAI_NODATA is glibc's, absent elsewhere).
_NO_SUCH_HOST = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}
_SOCKET_ERRORS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset by the server",
    errno.ECONNABORTED: "connection aborted",
    errno.ENETUNREACH: "network unreachable",
    errno.EHOSTUNREACH: "host unreachable",
    errno.EPIPE: "connection closed by the server",
}


def network_failure(reason: object) -> ListenError:
    """A socket-level failure as an editor reads it ("connection refused", "no such host"),
    transient when the server or the DNS may well answer next time."""
    if isinstance(reason, socket.gaierror):
        if reason.errno in _NO_SUCH_HOST:
            return ListenError("no such host")
        if reason.errno == socket.EAI_AGAIN:
            return TransientError("the host's name could not be looked up (DNS not answering)")
        return ListenError(f"the host's name could not be looked up ({reason.strerror})")
    if isinstance(reason, ssl.SSLCertVerificationError):
        return ListenError(f"the server's TLS certificate is not trusted ({reason.verify_message})")
    if isinstance(reason, ssl.SSLError):
        return TransientError(f"TLS failed ({reason.reason or reason})")
    if isinstance(reason, OSError) and reason.errno in _SOCKET_ERRORS:
        return TransientError(_SOCKET_ERRORS[reason.errno])
    if isinstance(reason, ConnectionError):
        return TransientError(reason.strerror or str(reason))
    if isinstance(reason, OSError) and reason.strerror:
        return ListenError(reason.strerror[:1].lower() + reason.strerror[1:])
    return ListenError(str(reason))


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
        if isinstance(exc.reason, TimeoutError):
            raise TransientError(f"timed out after {limits.timeout:g} s fetching {url}") from None
        failure = network_failure(exc.reason)
        raise type(failure)(f"cannot fetch {url}: {failure}") from None
    except TimeoutError:
        raise TransientError(f"timed out after {limits.timeout:g} s fetching {url}") from None
    except OSError as exc:  # refused or reset mid-response, and the like
        failure = network_failure(exc)
        raise type(failure)(f"cannot fetch {url}: {failure}") from None
    except ValueError as exc:
        raise ListenError(f"cannot fetch {url}: {exc}") from None
    if len(data) > limits.max_bytes:
        raise ListenError(f"page too large (over {limits.max_bytes} bytes): {url}")
    return data
