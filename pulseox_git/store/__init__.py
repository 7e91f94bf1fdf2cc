"""Stores: how pages and summaries reach a repository and are read back.

`base.Store` is the interface; `git.GitStore` (a cached clone, the normal
case) and `api.ApiStore` (GitHub's REST API, where no clone is possible)
implement it, and `select.open_store` picks one for `--transport`.
"""
