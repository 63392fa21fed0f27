"""The OPEN-API card issuing and multi-currency wallet provider (providers.md §1)."""
