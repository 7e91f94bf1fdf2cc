"""How a token reaches git and HTTP without touching disk, argv or output.

git gets the token as an ``http.extraHeader`` through the ``GIT_CONFIG_*``
environment (never ``-c`` on the command line, never in a URL), and every
registered secret is scrubbed from any text we show.
"""

from __future__ import annotations

import base64
import re
from urllib.parse import urlsplit, urlunsplit

from pulseox_git import settings
from pulseox_git.errors import BadInputError

TOKEN_USER = "x-access-token"
_secrets: set[str] = set()


class Secret(str):
    """A string that never shows itself in a repr."""

    def __repr__(self) -> str:
        return "'***'"


def register_secret(value: str) -> None:
    """Remember a secret, and the encodings git or HTTP may show, for `redact`."""
    if not value:
        return
    _secrets.add(value)
    _secrets.add(basic_credentials(value))
    _secrets.add(base64.b64encode(value.encode()).decode())


def redact(text: str) -> str:
    """Replace every registered secret and any inline URL credentials with ***."""
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return re.sub(r"(\w+://)[^/@\s]+@", r"\1***@", text)


def basic_credentials(token: str) -> str:
    return base64.b64encode(f"{TOKEN_USER}:{token}".encode()).decode()


def resolve_token(token: str | None) -> Secret | None:
    """The token from the argument, else PULSEOX_TOKEN, else GITHUB_TOKEN."""
    value = token or settings.token()
    if not value:
        return None
    if not isinstance(value, str):  # never shown: it may be a secret all the same
        raise BadInputError(f"the token must be text, not {type(value).__name__}")
    if any(c in value for c in "\r\n\0"):
        raise BadInputError("the token contains a line break or NUL; check how it was set")
    register_secret(value)
    return Secret(value)


def clean_remote_url(url: str) -> tuple[str, bool]:
    """Refuse URLs that make git run commands; strip inline credentials.

    Returns the URL without credentials and whether any were stripped.
    """
    if not url or url != url.strip() or any(ord(c) < 32 for c in url):
        raise BadInputError(f"bad remote URL {url!r}: empty, padded or with control characters")
    if url.startswith("-"):
        raise BadInputError(f"bad remote URL {url!r}: it would be read as an option")
    scheme = url.split("::", 1)[0] if "::" in url else urlsplit(url).scheme
    if "::" in url or scheme in {"ext", "fd"}:
        raise BadInputError(f"bad remote URL {url!r}: transport {scheme!r} can run commands")
    if re.search(r"(://|@)-", url):
        raise BadInputError(
            f"bad remote URL {url!r}: a host or user starting with '-' would be read as an option"
        )
    parts = urlsplit(url)
    if parts.scheme in {"http", "https", "ssh", "git", "ftp", "ftps"} and "@" in parts.netloc:
        userinfo, host = parts.netloc.rsplit("@", 1)
        if parts.scheme in {"http", "https", "ftp", "ftps"} or ":" in userinfo:
            register_secret(userinfo.partition(":")[2] or userinfo)
            return urlunsplit(parts._replace(netloc=host)), True
    return url, False


def git_auth_env(token: str | None, url: str) -> dict[str, str]:
    """Environment that makes git authenticate with `token` and never prompt."""
    pairs = [
        ("http.extraHeader", ""),  # an empty value resets inherited headers
        ("credential.helper", ""),  # no helper may store or prompt for secrets
        ("http.lowSpeedLimit", "1000"),  # a stalled transfer fails instead of hanging
        ("http.lowSpeedTime", str(settings.GIT_STALL.get_int())),
    ]
    if token and urlsplit(url).scheme in {"http", "https"}:
        pairs.append(("http.extraHeader", f"Authorization: Basic {basic_credentials(token)}"))
    env = {"GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_COUNT": str(len(pairs))}
    for i, (key, value) in enumerate(pairs):
        env[f"GIT_CONFIG_KEY_{i}"] = key
        env[f"GIT_CONFIG_VALUE_{i}"] = value
    if not settings.has_ssh_command():
        env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes -o ConnectTimeout=30"
    return env
