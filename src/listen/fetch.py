"""Fetching an article page by URL, defensively: pages come from CMSs many people write into.

Only http and https; a connect/read timeout; a size cap read incrementally (a hostile server
cannot make us hold more than the cap); a redirect limit, each hop checked again; one clear
error per failure.

Where the URL comes from someone else (the HTTP API, queue workers), `public_only` also
refuses every address that is not on the public internet (loopback, private, link-local, cloud
metadata, reserved): each host is resolved, every address it resolves to is checked, and the
connection is made to the address that was checked (so a DNS answer that changes between the
check and the connection cannot slip through), on the first request and on every redirect.
"""

from __future__ import annotations

import errno
import http.client
import ipaddress
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
    #: Refuse hosts that resolve to anything but public internet addresses.
    public_only: bool = False


#: Cloud instance metadata services, named in the refusal (they are link-local or private
#: anyway): AWS, GCP, Azure, OpenStack (IPv4 and AWS's IPv6), AWS ECS, Alibaba, Oracle.
METADATA_ADDRESSES = frozenset(map(ipaddress.ip_address, (
    "169.254.169.254", "fd00:ec2::254", "169.254.170.2", "100.100.100.200", "192.0.0.192",
)))  # fmt: skip

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
#: NAT64's well-known prefix: the last 32 bits are the IPv4 address a gateway connects to.
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def address_refusal(address: Address) -> str | None:
    """Why `address` must not be fetched from when only public addresses are allowed (a
    loopback address, a private one...), or None for a public internet address."""
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv4 address inside an IPv6 one (::ffff:127.0.0.1, 6to4, Teredo, NAT64) is that one.
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo or (None, None))[1]
        if address in NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return address_refusal(embedded)
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    for kind, is_kind in (("a loopback", address.is_loopback), ("a link-local",
                          address.is_link_local), ("an unspecified", address.is_unspecified),
                          ("a multicast", address.is_multicast), ("a private", address.is_private)):
        if is_kind:
            return f"{kind} address"
    return None if address.is_global else "a reserved address"


def public_addresses(host: str, port: int) -> list[tuple]:  # type: ignore[type-arg]
    """getaddrinfo's answers for (host, port), once every one of them is a public address
    (a name that does not resolve raises socket.gaierror, as for any connection)."""
    answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    for *_, sockaddr in answers:
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        refusal = address_refusal(address)
        if refusal is not None:
            shown = host if host == str(address) else f"{host} ({address})"
            raise ListenError(f"refusing to fetch from {shown}: {refusal} (set [fetch] "
                              "allow_private_addresses = true to allow it)")  # fmt: skip
    return answers


def _connect_public(address: tuple[str, int], timeout: object = socket._GLOBAL_DEFAULT_TIMEOUT,
                    source_address: object = None) -> socket.socket:  # fmt: skip
    """socket.create_connection, to the checked addresses of the host only."""
    host, port = address
    failure: OSError | None = None
    for family, kind, proto, _, sockaddr in public_addresses(host, port):
        sock = socket.socket(family, kind, proto)
        try:
            if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:
                sock.settimeout(timeout)  # type: ignore[arg-type]
            if source_address:
                sock.bind(source_address)  # type: ignore[arg-type]
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            failure = exc
    raise failure or OSError(f"no address for {host}")


class _PublicHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._create_connection = _connect_public


class _PublicHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._create_connection = _connect_public


class _PublicHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):  # type: ignore[no-untyped-def]
        return self.do_open(_PublicHTTPConnection, req)


class _PublicHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):  # type: ignore[no-untyped-def]
        return self.do_open(_PublicHTTPSConnection, req, context=self._context)


def check_fetchable(url: str) -> None:
    """Refuse at once (a ListenError) a URL that `fetch_page(url, Limits(public_only=True))`
    would refuse before connecting: not http(s), or a host that is not a public address."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in SCHEMES or not parts.hostname:
        raise ListenError(f"only http and https URLs can be fetched, not {url}")
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        raise ListenError(f"bad port in {url}") from None
    try:
        public_addresses(parts.hostname, port)
    except (OSError, UnicodeError) as exc:
        failure = network_failure(exc)
        raise type(failure)(f"cannot fetch {url}: {failure}") from None


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
    handlers: list[urllib.request.BaseHandler] = [_Redirects(limits.max_redirects)]
    if limits.public_only:
        # Straight to the checked address: a proxy from the environment would hide it.
        handlers += [urllib.request.ProxyHandler({}), _PublicHTTPHandler(), _PublicHTTPSHandler()]
    opener = urllib.request.build_opener(*handlers)
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
