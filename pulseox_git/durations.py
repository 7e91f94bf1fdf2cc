"""How durations are spelled everywhere: `90s`, `10m`, `2h`, `1d`, `1w`, and sums like `1h30m`.

One reader and one writer, shared by schedules, grace periods, run limits,
timeouts and the `duration:` line of a page's footer, so a value written
anywhere reads back the same everywhere. Pure.
"""

from __future__ import annotations

import re
from datetime import timedelta

from pulseox_git.errors import BadInputError

UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
DURATION = re.compile(r"^(?:\d+[wdhms])+$")
_PART = re.compile(r"(\d+)([wdhms])")


def parse_duration(text: str, what: str = "duration") -> timedelta:
    """`90s`, `10m`, `2h`, `1d`, `1w` or a sum such as `1h30m`; a bare `0` is zero."""
    value = text.strip().lower() if isinstance(text, str) else text
    if value == "0":
        return timedelta(0)
    if not isinstance(value, str) or not DURATION.match(value):
        raise BadInputError(
            f"bad {what} {text!r}: use a number and a unit, like 90s, 10m, 2h, 1d or 1w"
        )
    return timedelta(seconds=sum(int(n) * UNITS[unit] for n, unit in _PART.findall(value)))


def format_duration(delta: timedelta) -> str:
    """The shortest spelling `parse_duration` reads back: 5400s -> `1h30m`."""
    seconds = int(delta.total_seconds())
    if seconds == 0:
        return "0s"
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    parts = []
    for unit, size in UNITS.items():
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return sign + "".join(parts)


def brief(delta: timedelta) -> str:
    """The two largest units, cut (not rounded), for notes: 11525s -> `3h12m`,
    252s -> `4m12s`, under a second `<1s`; `ran 3h12m, limit 3h` never shows a
    run over its limit as equal to it."""
    if timedelta(0) <= delta < timedelta(seconds=1):
        return "<1s"
    parts = _PART.findall(format_duration(delta).lstrip("-"))
    sign = "-" if delta < timedelta(0) else ""
    return sign + "".join(n + unit for n, unit in parts[:2])


def parse_positive(value: timedelta | str, what: str) -> timedelta:
    """A duration above zero, from a timedelta or a duration string."""
    delta = value if isinstance(value, timedelta) else parse_duration(value, what)
    if delta <= timedelta(0):
        shown = value if isinstance(value, str) else format_duration(delta)
        raise BadInputError(f"bad {what} {shown!r}: it must be longer than zero")
    return delta


def parse_limit(value: timedelta | str | None, what: str) -> timedelta | None:
    """None, or a duration above zero (`max_duration`, `--timeout`)."""
    return None if value is None else parse_positive(value, what)
