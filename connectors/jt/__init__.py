"""JT wallet connector (providers.md §2): RSA-signed requests, integer minor units."""
