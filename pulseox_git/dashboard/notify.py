"""Tell people about status changes through the `notifiers` package.

`notify` maps a provider name to its keyword arguments, as in the original
pulseox: `{"slack": {"webhook_url": ...}}`. A key ending in `_env` names the
environment variable that holds the value (`webhook_url_env = "SLACK_URL"`),
which is how `pulseox.toml` refers to secrets. Each provider gets a bounded
time; failures come back as redacted messages, never as exceptions, because
the summary commit is already pushed when we get here.
"""

from __future__ import annotations

import os
import socket
import threading
from typing import Any
from urllib.parse import urlsplit

from pulseox_git import settings
from pulseox_git.dashboard.notifyconf import ENV_SUFFIX, check_notify, looks_secret
from pulseox_git.errors import BadInputError, NotifyError
from pulseox_git.store.auth import redact

DEFAULT_TIMEOUT = settings.NOTIFY_TIMEOUT.default  # seconds per provider, all told


def resolve(kwargs: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The provider's keyword arguments with `<key>_env` replaced by the variable's
    value, and the secret values to scrub from any message."""
    resolved: dict[str, Any] = {}
    secrets: list[str] = []
    for key, value in kwargs.items():
        if key.endswith(ENV_SUFFIX):
            name = key[: -len(ENV_SUFFIX)]
            if not os.environ.get(value):
                raise NotifyError(f"environment variable {value} (for {name}) is not set")
            resolved[name] = os.environ[value]
            secrets.append(os.environ[value])
        else:
            resolved[key] = value
            if looks_secret(key, value) and isinstance(value, str):
                secrets.append(value)
    return resolved, secrets


def _scrub(text: str, secrets: list[str]) -> str:
    """Hide each secret, and the path and query of secret URLs (HTTP errors show
    them without the host)."""
    parts = [
        p
        for s in secrets
        if "://" in s
        for p in (urlsplit(s).path, urlsplit(s).query)
        if len(p) > 1
    ]
    for secret in sorted([*secrets, *parts], key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return redact(text)


def defaults(schema: dict[str, Any], subject: str) -> dict[str, str]:
    """Our subject and sender for providers that have them (email), instead of
    notifiers' "New email from 'notifiers'!" from notifiers@...; settable as usual."""
    properties = schema.get("properties", {})
    found = {"subject": subject} if "subject" in properties else {}
    if "from" in properties:
        found["from"] = f"pulseox-git@{socket.getfqdn()}"  # as notifiers does, named for us
    return found


def send_one(
    provider: str,
    kwargs: dict[str, Any],
    message: str,
    timeout: float = DEFAULT_TIMEOUT,
    subject: str = "pulseox-git: status changes",
) -> None:
    """Send `message` through one provider; raise NotifyError on any failure."""
    resolved, secrets = resolve(kwargs)
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            import notifiers

            notifier = notifiers.get_notifier(provider)
            if notifier is not None:
                given = {**defaults(notifier.schema, subject), **resolved}
                outcome["response"] = notifier.notify(message=message, **given)
        except Exception as err:  # a provider failing must not stop the others
            outcome["error"] = err

    thread = threading.Thread(target=work, name=f"notify-{provider}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise NotifyError(f"{provider}: no answer within {timeout:g}s")
    if "error" in outcome:
        err = outcome["error"]
        raise NotifyError(_scrub(f"{provider}: {type(err).__name__}: {err}", secrets))
    response = outcome.get("response")
    if response is None:
        raise NotifyError(f"unknown notifier provider {provider!r}")
    if not response.ok:
        raise NotifyError(_scrub(f"{provider}: {'; '.join(map(str, response.errors))}", secrets))


def check_providers(notify: dict[str, dict[str, Any]]) -> list[str]:
    """Refuse a provider `notifiers` does not know (BadInputError); the settings whose
    environment variable is not set, as warnings. Run before the summary is written,
    so a typo is found on the first refresh, not at the first status change."""
    if not notify:
        return []
    import notifiers

    known = notifiers.all_providers()
    for provider in notify:
        if provider not in known:
            raise BadInputError(
                f"unknown notify provider {provider!r}: use one of {', '.join(sorted(known))}"
            )
    return [
        f"notify.{provider}.{key}: environment variable {value} is not set, so "
        f"{provider} cannot be told"
        for provider, kwargs in notify.items()
        for key, value in kwargs.items()
        if key.endswith(ENV_SUFFIX) and not os.environ.get(value)
    ]


def send(
    notify: dict[str, dict[str, Any]],
    message: str,
    timeout: float = DEFAULT_TIMEOUT,
    subject: str = "pulseox-git: status changes",
) -> list[str]:
    """Send `message` through every provider; the failures, one line each."""
    failures = []
    for provider, kwargs in check_notify(notify, stored=False).items():
        try:
            send_one(provider, kwargs, message, timeout, subject)
        except NotifyError as err:
            failures.append(str(err))
    return failures
