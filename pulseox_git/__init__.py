"""pulseox-git: job status pages in git, and a dashboard that watches them."""

__version__ = "0.1.0"

_EXPORTS = {
    "PulseOxClient": "pulseox_git.client",
    "PostResult": "pulseox_git.client",
    "Page": "pulseox_git.page",
    "PulseOxSpec": "pulseox_git.dashboard.specs",
    "PulseOxDashboard": "pulseox_git.dashboard",
    "PulseOxError": "pulseox_git.errors",
    "BadInputError": "pulseox_git.errors",
    "RemoteError": "pulseox_git.errors",
    "AuthError": "pulseox_git.errors",
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> object:
    """Load the public API on first use, so the CLI starts fast (and a Ctrl-C at
    start-up finds nothing of ours half-imported)."""
    if name in _EXPORTS:
        from importlib import import_module

        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'pulseox_git' has no attribute {name!r}")
