"""`pulseox_git.specs`, the original's import path: specs now live in
`pulseox_git.dashboard.specs`; `format_response_error` is the original's helper."""

from pulseox_git.client import format_response_error
from pulseox_git.dashboard.specs import PulseOxSpec, Settings, dumps, loads

__all__ = ["PulseOxSpec", "Settings", "dumps", "format_response_error", "loads"]
