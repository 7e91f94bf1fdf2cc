"""The REST API store: GitHub's Contents and Git Data APIs, where no clone is possible.
`ApiStore` is its front; `github` is the HTTP client, `objects` computes the
ids git would give a commit."""

from pulseox_git.store.api.store import ApiStore

__all__ = ["ApiStore"]
