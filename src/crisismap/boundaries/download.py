"""HTTP for fetching boundaries: bounded, http(s) only, and one clear sentence per failure.

Every request has a timeout per read and an overall deadline, every answer a size cap
(checked against Content-Length first, then while reading); redirects and URLs taken from
an API's answer must be http or https (``file:`` or ``ftp:`` from a service's answer would
read this machine's files). Nothing downloaded is ever executed: it is written to disk and
read as data. Failures are :class:`~crisismap.errors.FetchError` sentences that say
whether the machine looks offline, the service refused, or it answered something else.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crisismap import __version__
from crisismap.errors import FetchError
from crisismap.i18n import N_, _

MAX_JSON_BYTES = 5 * 1024**2  # an API's metadata answer; real ones are a few KB
_OFFLINE_HINT = N_(
    "Boundaries fetched earlier still work offline (`crisismap boundaries fetched:<ISO3>`); "
    "the bundled set is `world:<ISO3>`."
)


class NotFound(FetchError):
    """The service answered 404: the caller says what was not found."""


@dataclass(frozen=True)
class Limits:
    """How long and how much one fetch may take."""

    timeout_s: float = 60.0  # per connection and per read
    deadline_s: float = 900.0  # the whole fetch
    max_bytes: int = 200 * 1024**2  # one downloaded file
    max_total_bytes: int = 500 * 1024**2  # every file of one fetch


class Client:
    """One fetch's HTTP: the limits, the deadline, the bytes so far."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.started = time.monotonic()
        self.total = 0
        self._opener = urllib.request.build_opener(_HttpOnlyRedirects())

    def get_json(self, url: str, service: str) -> Any:
        """The JSON answer at ``url``; NotFound on 404, FetchError on anything unexpected."""
        data = self._get(url, service, MAX_JSON_BYTES, None)
        try:
            return json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            start = data[:80].decode("utf-8", "replace").strip()
            raise FetchError(
                _(
                    "{service} answered something unexpected at {url}: expected JSON, "
                    "got {start!r}. The service may be down or its address wrong "
                    "(check the environment variable that sets it)."
                ).format(service=service, url=url, start=start)
            ) from None

    def download(self, url: str, service: str, target: Path) -> int:
        """Write the file at ``url`` to ``target`` (bounded); its size in bytes."""
        check_url(url, service)
        self._get(url, service, self.limits.max_bytes, target)
        return target.stat().st_size

    def _get(self, url: str, service: str, cap: int, target: Path | None) -> bytes:
        check_url(url, service)
        request = urllib.request.Request(
            url, headers={"User-Agent": f"crisismap/{__version__}", "Accept": "*/*"}
        )
        try:
            with self._opener.open(request, timeout=self.limits.timeout_s) as answer:
                length = answer.headers.get("Content-Length")
                if length and length.isdigit():
                    self._check_size(int(length), cap, url)
                return self._read(answer, cap, url, service, target)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                raise NotFound(
                    _("{service} has nothing at {url} (HTTP 404).").format(service=service, url=url)
                ) from None
            raise FetchError(
                _(
                    "{service} refused the request for {url}: HTTP {code} {reason}. "
                    "Try again later; if it persists, the service may have changed."
                ).format(service=service, url=url, code=exc.code, reason=exc.reason)
            ) from None
        except http.client.HTTPException as exc:
            raise FetchError(
                _(
                    "The connection to {service} broke while reading {url} ({exc!r}): try again."
                ).format(service=service, url=url, exc=exc)
            ) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            host = urlsplit(url).netloc or url
            raise FetchError(
                _(
                    "Could not reach {service} at {host} ({reason}): this machine "
                    "looks offline, or the service is down. {hint}"
                ).format(service=service, host=host, reason=reason, hint=_(_OFFLINE_HINT))
            ) from None

    def _read(self, answer: Any, cap: int, url: str, service: str, target: Path | None) -> bytes:
        chunks: list[bytes] = []
        size = 0
        out = target.open("wb") if target is not None else None
        try:
            for chunk in iter(lambda: answer.read(1 << 20), b""):
                size += len(chunk)
                self._check_size(size, cap, url)
                if time.monotonic() - self.started > self.limits.deadline_s:
                    raise FetchError(
                        _(
                            "Fetching from {service} took longer than {deadline_s:.0f} s and "
                            "was stopped: try again on a faster connection, or ask for fewer "
                            "levels (--level)."
                        ).format(service=service, deadline_s=self.limits.deadline_s)
                    )
                if out is not None:
                    out.write(chunk)
                else:
                    chunks.append(chunk)
        finally:
            if out is not None:
                out.close()
        self.total += size
        return b"".join(chunks)

    def _check_size(self, size: int, cap: int, url: str) -> None:
        if size > cap or self.total + size > self.limits.max_total_bytes:
            limit = min(cap, self.limits.max_total_bytes)
            raise FetchError(
                _(
                    "The download from {url} was stopped: it is over {limit_mb:.0f} MB, "
                    "the limit for one fetch. Ask for fewer levels (--level), or "
                    "download the files by hand and load the folder."
                ).format(url=url, limit_mb=limit / 1024**2)
            )


def check_url(url: str, service: str) -> None:
    """Refuse any URL that is not http(s): an API's answer must not point at local files."""
    parts = urlsplit(str(url))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FetchError(
            _(
                "{service} answered something unexpected: a download address "
                "{url!r} that is not an http(s) URL. Nothing was downloaded."
            ).format(service=service, url=str(url)[:120])
        )


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http(s) only."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[override]
        check_url(newurl, urlsplit(req.full_url).netloc)
        return super().redirect_request(req, fp, code, msg, headers, newurl)
