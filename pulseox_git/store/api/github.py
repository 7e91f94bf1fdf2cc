"""A small GitHub REST client on the standard library: timeouts, rate limits, clear errors.

urllib only, so the fallback works on runners with nothing but Python. The
token travels in one place, the `Authorization` header, which is not carried
across a redirect to another host; error messages name the repository, the
request and GitHub's own explanation, never a header.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from email.message import Message
from typing import IO, Any
from urllib.parse import urlencode, urlsplit

from pulseox_git import __version__, settings
from pulseox_git.errors import (
    AuthError,
    BadInputError,
    RateLimitError,
    RemoteError,
    UnreachableApiError,
)
from pulseox_git.store import auth

log = logging.getLogger("pulseox_git")

DEFAULT_API_URL = "https://api.github.com"
SERVER_ATTEMPTS = 3  # tries for a request that meets a 5xx (never for PUT, which is not idempotent)
RETRYABLE = frozenset({500, 502, 503, 504})
SECONDARY_WAIT = 60.0  # what GitHub asks for a 429 that names no time
_LOOPBACK = ("127.0.0.1", "::1", "localhost")


_SLOTS: dict[int, threading.BoundedSemaphore] = {}  # by $PULSEOX_API_CONCURRENCY
_SLOTS_LOCK = threading.Lock()


def _in_flight() -> threading.BoundedSemaphore:
    """One slot of $PULSEOX_API_CONCURRENCY, shared by every client in the process:
    a dashboard reading many repositories at once stays under GitHub's limit on
    concurrent requests."""
    limit = settings.API_CONCURRENCY.get_int()
    with _SLOTS_LOCK:
        return _SLOTS.setdefault(limit, threading.BoundedSemaphore(limit))


@dataclass(frozen=True)
class Response:
    status: int
    data: Any
    headers: Message


def api_base(value: str | None = None) -> str:
    """The API base URL: `value`, else $PULSEOX_API_URL, else https://api.github.com."""
    if value is not None and not value.strip():
        raise BadInputError("bad API URL '': leave --api-url out for https://api.github.com")
    url = (value or settings.api_url() or DEFAULT_API_URL).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise BadInputError(
            f"bad API URL {url!r}: use http(s)://host[/path], e.g. "
            f"{DEFAULT_API_URL} or https://github.example.com/api/v3"
        )
    if "@" in parts.netloc:
        raise BadInputError(
            f"bad API URL {auth.redact(url)!r}: put the token in PULSEOX_TOKEN, not in the URL"
        )
    return url


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port


class _KeepAuthOnSameOrigin(urllib.request.HTTPRedirectHandler):
    """Follow redirects (GitHub redirects renamed repositories), keeping the token
    only when the redirect stays on the same scheme, host and port."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        token = req.unredirected_hdrs.get("Authorization")
        if new is not None and token and _origin(req.full_url) == _origin(newurl):
            new.add_unredirected_header("Authorization", token)
        return new


class GitHubApi:
    """Requests to one repository's REST endpoints: `call("GET", "/git/ref/heads/main")`."""

    def __init__(
        self,
        api_url: str | None,
        owner: str,
        repo: str,
        token: str | None = None,
        timeout: float | None = None,
        max_wait: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.api_url = api_base(api_url)
        self.name = f"{owner}/{repo}"
        self.repo_url = f"{self.api_url}/repos/{owner}/{repo}"
        self.token = token
        self.timeout = settings.API_TIMEOUT.get(timeout)
        # 0 is allowed here, in Python: never wait out a rate limit
        self.max_wait = max_wait if max_wait is not None else settings.API_MAX_WAIT.get()
        self.sleep = sleep
        self.clock = clock
        self.requests = 0
        self._opener = urllib.request.build_opener(_KeepAuthOnSameOrigin())
        host = urlsplit(self.api_url).hostname
        if token and self.api_url.startswith("http:") and host not in _LOOPBACK:
            log.warning("warning: the token goes to %s over plain http; use https", self.api_url)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: Mapping[str, Any] | None = None,
        allow: tuple[int, ...] = (),
    ) -> Response:
        """One request under the repository's URL; statuses in `allow` are returned,
        other failures raised as errors that say what went wrong."""
        url = self.repo_url + path + (f"?{urlencode(query)}" if query else "")
        return self.fetch(method, url, body, allow)

    def pages(self, path: str, query: Mapping[str, Any]) -> Iterator[Any]:
        """Every item of a paginated list, following the `Link: rel="next"` header."""
        url: str | None = self.repo_url + path + f"?{urlencode({**query, 'per_page': 100})}"
        while url:
            response = self.fetch("GET", url)
            yield from response.data
            url = _next_link(response.headers.get("Link", ""))
            if url and _origin(url) != _origin(self.api_url):
                raise RemoteError(
                    f"the GitHub API at {self.api_url} sent a next page on "
                    f"another host; refusing to follow it"
                )

    def fetch(
        self, method: str, url: str, body: Any = None, allow: tuple[int, ...] = ()
    ) -> Response:
        waited = 0.0
        failures = 0
        while True:
            response = self._send(method, url, body)
            status = response.status
            if status < 300 or status in allow:
                return response
            limit = self._rate_limit(response)
            if limit is not None:
                wait, name = limit
                if waited + wait > self.max_wait:
                    raise RateLimitError(
                        f"the GitHub API's {name} for {self.name}: it asks to wait {wait:.0f}s, "
                        f"more than the {self.max_wait:g}s we may wait "
                        "(PULSEOX_API_MAX_WAIT); try again later"
                    )
                log.warning("warning: hit the GitHub API's %s; waiting %.0fs", name, wait)
                self.sleep(wait)
                waited += wait
                continue
            failures += 1
            if status in RETRYABLE and method != "PUT" and failures < SERVER_ATTEMPTS:
                self.sleep(0.5 * failures)
                continue
            raise self._error(method, url, response, failures)

    def _send(self, method: str, url: str, body: Any) -> Response:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Accept", "application/vnd.github+json")
        request.add_header("X-GitHub-Api-Version", "2022-11-28")
        request.add_header("User-Agent", f"pulseox-git/{__version__}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_unredirected_header("Authorization", f"Bearer {self.token}")
        self.requests += 1
        try:
            with _in_flight(), self._opener.open(request, timeout=self.timeout) as reply:
                return Response(reply.status, _json(reply.read()), reply.headers)
        except urllib.error.HTTPError as err:
            with err:
                return Response(err.code, _json(err.read()), err.headers)
        except TimeoutError:
            where = f"{method} {urlsplit(url).path}"
            raise UnreachableApiError(
                f"the GitHub API at {self.api_url} did not answer within "
                f"{self.timeout:g}s ({where})"
            ) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
            reason = auth.redact(str(getattr(err, "reason", err)))
            raise UnreachableApiError(
                f"cannot reach the GitHub API at {self.api_url}: {reason}"
            ) from None

    def _rate_limit(self, response: Response) -> tuple[float, str] | None:
        """How long GitHub asks us to wait, and which limit it is, or None."""
        if response.status not in (403, 429):
            return None
        headers = response.headers
        resource = headers.get("X-RateLimit-Resource")
        retry_after = headers.get("Retry-After")
        if retry_after:
            name = f"{resource} rate limit" if resource else "secondary rate limit"
            return _seconds(retry_after, self.clock()), f"{name} (Retry-After: {retry_after})"
        if headers.get("X-RateLimit-Remaining") == "0" and headers.get("X-RateLimit-Reset"):
            reset = float(headers["X-RateLimit-Reset"])
            limit = headers.get("X-RateLimit-Limit", "?")
            when = time.strftime("%H:%M:%S UTC", time.gmtime(reset))
            return (
                max(1.0, reset - self.clock()),
                f"{resource or 'core'} rate limit of {limit} requests (resets at {when})",
            )
        said = response.data.get("message", "") if isinstance(response.data, dict) else ""
        if response.status == 429 or "rate limit" in str(said).lower():
            return SECONDARY_WAIT, f"secondary rate limit ({response.status} without Retry-After)"
        return None

    def _error(self, method: str, url: str, response: Response, attempts: int) -> RemoteError:
        data = response.data
        said = data.get("message", "") if isinstance(data, dict) else ""
        said = auth.redact(str(said).splitlines()[0] if said else "")
        status = response.status
        where = f"{method} {urlsplit(url).path}"
        no_token = "" if self.token else "; no token was given (set PULSEOX_TOKEN or GITHUB_TOKEN)"
        if status == 401:
            return AuthError(
                f"the GitHub API at {self.api_url} rejected the token for "
                f"{self.name} (401 {said or 'Bad credentials'}){no_token}"
            )
        if status == 403:
            return AuthError(
                f"the GitHub API at {self.api_url} refused {where} (403 {said}): "
                f"the token may not do this on {self.name}{no_token}"
            )
        if status == 404:
            return RemoteError(
                f"no repository {self.name} at {self.api_url}, or the token "
                f"cannot see it (404 for {where}){no_token}"
            )
        if status >= 500:
            return RemoteError(
                f"the GitHub API at {self.api_url} failed with {status} for "
                f"{where} ({attempts} attempt{'s' * (attempts > 1)}); "
                "try again later"
            )
        return RemoteError(
            f"the GitHub API at {self.api_url} refused {where} on {self.name} ({status} {said})"
        )


def _json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return {"message": raw[:200].decode("utf-8", "replace")}


def _seconds(value: str, now: float) -> float:
    """Retry-After is a number of seconds or an HTTP date."""
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return SECONDARY_WAIT


def _next_link(header: str) -> str | None:
    for part in header.split(","):
        target, _, params = part.partition(";")
        if 'rel="next"' in params:
            return target.strip().strip("<>")
    return None
