"""Signed webhooks: how the API tells a CMS that an episode was published, failed or removed.

    POST <[api] webhook_url>
    Content-Type: application/json
    Listen-Signature: t=1767225600,v1=<hex HMAC-SHA256 of "1767225600.<body>" with the secret>

    {"event": "episode.published", "slug": "...", "job": "...", "urls": {...}, "reason": null}

The timestamp is signed with the body, so a receiver can refuse replays (`verify` allows five
minutes). A delivery counts when the receiver answers 2xx; anything else (an error status, a
timeout, a refused connection) is retried with exponential backoff, each attempt signed anew.
The URL is the site's own setting, not input: it may well be on a private network, so it is
not held to the public-address rule of fetched pages.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from listen import __version__

SIGNATURE_HEADER = "Listen-Signature"
EVENTS = ("episode.published", "episode.failed", "episode.removed")
TIMEOUT_SECONDS = 10.0
#: The longest wait between two attempts.
MAX_RETRY_DELAY = 3600.0
#: How old a signature `verify` accepts, seconds.
TOLERANCE_SECONDS = 300

log = logging.getLogger("listen.webhooks")


@dataclass(frozen=True)
class Event:
    event: str
    slug: str
    job: str | None = None
    urls: dict[str, str] | None = None
    reason: str | None = None

    def body(self) -> bytes:
        return json.dumps({"event": self.event, "slug": self.slug, "job": self.job,
                           "urls": self.urls, "reason": self.reason},
                          ensure_ascii=False, separators=(",", ":")).encode()  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return json.loads(self.body())

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Event:
        return cls(data["event"], data["slug"], data.get("job"), data.get("urls"),
                   data.get("reason"))  # fmt: skip


def signature(body: bytes, secret: str, timestamp: int) -> str:
    """The Listen-Signature header's value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(body: bytes, header: str, secret: str, now: float | None = None,
           tolerance: float = TOLERANCE_SECONDS) -> bool:  # fmt: skip
    """What a receiver checks: the signature is the secret's, over this body, and recent."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = signature(body, secret, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


class DeliveryFailed(Exception):
    """One attempt did not reach a 2xx answer; the message says what happened."""


def send_once(url: str, secret: str, event: Event, timeout: float = TIMEOUT_SECONDS) -> int:
    """POST the event once, signed now; its status, or DeliveryFailed."""
    body = event.body()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json",
        "User-Agent": f"listen/{__version__} (+webhooks)",
        SIGNATURE_HEADER: signature(body, secret, int(time.time())),
    })  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        raise DeliveryFailed(f"HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        from listen.fetch import network_failure

        raise DeliveryFailed(str(network_failure(getattr(exc, "reason", exc)))) from None


def retry_delay(first: float, attempt: int) -> float:
    """Seconds before retry number `attempt` (1, 2, ...): `first`, doubling each time."""
    return min(MAX_RETRY_DELAY, first * 2 ** (attempt - 1))


__all__ = ["EVENTS", "SIGNATURE_HEADER", "DeliveryFailed", "Event", "retry_delay", "send_once",
           "signature", "verify"]  # fmt: skip
