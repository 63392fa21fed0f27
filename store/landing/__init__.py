"""Landing: fetch a provider's windows and snapshots whole through its connector, and write
them to the lake, one file per window or reading (refused rows beside them)."""
