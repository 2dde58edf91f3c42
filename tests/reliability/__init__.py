"""Reliability tests: the SPEC's guarantees 1, 3, 4 and 6 under attack (issue 6)."""
