"""Whalet connector (providers.md §3): token auth, money objects."""
