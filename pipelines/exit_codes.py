"""What `recon` exits with (docs/operations.md#exit-codes)."""

OK = 0
FAILED = 1  # a step failed: nothing new was published
USAGE = 2  # a wrong argument or setting, said in one line
OPEN_BREAKS = 3  # --fail-on-breaks: the run worked and found open error breaks
INTERRUPTED = 130
