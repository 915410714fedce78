"""Semantic analysis: imports, scopes, axes, name resolution, and the checked `Pipeline`."""
