"""The `[notify.PROVIDER]` tables as `pulseox.toml` keeps them: secrets by the
name of the environment variable that holds them, never by value, and an
optional `tags` filter (routing: a provider hears only about specs with one
of its tags). Pure checks; notify.py sends.
"""

from __future__ import annotations

import re
from typing import Any

from pulseox_git.errors import BadInputError

ENV_SUFFIX = "_env"
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECRET_HINTS = (
    "token",
    "password",
    "passwd",
    "secret",
    "key",
    "webhook",
    "auth",
    "sid",
    "credential",
)
_TAG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
TAGS = "tags"  # the key of a [notify.PROVIDER] table that filters by spec tags


def check_tags(value: object, where: str) -> tuple[str, ...]:
    """Tags such as `db` or `team-data`: a list of short names."""
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise BadInputError(f"bad {where} {value!r}: give a list of names such as ['db']")
    for tag in value:
        if not isinstance(tag, str) or not _TAG.match(tag):
            raise BadInputError(
                f"bad tag {tag!r} in {where}: use letters, digits, '-', '_' and '.'"
            )
    return tuple(dict.fromkeys(value))


def looks_secret(key: str, value: object) -> bool:
    """Keys that name credentials, and any URL (webhook URLs carry their secret)."""
    lowered = key.lower()
    return any(hint in lowered for hint in _SECRET_HINTS) or (
        isinstance(value, str) and "://" in value
    )


def check_notify(notify: object, stored: bool) -> dict[str, dict[str, Any]]:
    """`{provider: {kwarg: value}}`. In the stored form a secret must be given as
    `<kwarg>_env = "ENV_VAR_NAME"`, never as its value."""
    if notify is None:
        return {}
    if not isinstance(notify, dict):
        raise BadInputError(f"notify must map provider names to settings, not {notify!r}")
    checked: dict[str, dict[str, Any]] = {}
    for provider, kwargs in notify.items():
        if not isinstance(provider, str) or not ENV_NAME.match(provider):
            raise BadInputError(f"bad notify provider name {provider!r}")
        if not isinstance(kwargs, dict):
            raise BadInputError(
                f"notify.{provider} must be a table of settings, not a {type(kwargs).__name__}"
            )
        for key, value in kwargs.items():
            if key == TAGS:
                check_tags(value, f"notify.{provider}.tags")
            elif key.endswith(ENV_SUFFIX):
                if not isinstance(value, str) or not ENV_NAME.match(value):
                    raise BadInputError(
                        f"notify.{provider}.{key} must name an environment variable, not {value!r}"
                    )
            elif stored and looks_secret(key, value):
                raise BadInputError(
                    f"notify.{provider}.{key} looks like a secret and is never stored: "
                    f"put it in an environment variable and write {key}{ENV_SUFFIX} = "
                    f'"{provider.upper()}_{key.upper()}" instead'
                )
        checked[provider] = dict(kwargs)
    return checked
