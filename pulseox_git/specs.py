"""`pulseox_git.specs`, the original's import path: specs now live in
`pulseox_git.dashboard.specs`."""

from pulseox_git.dashboard.specs import PulseOxSpec, Settings, dumps, loads

__all__ = ["PulseOxSpec", "Settings", "dumps", "loads"]
