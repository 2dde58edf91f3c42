"""The append-only archive: layout, staging and commit, manifest, checksums, lock, recovery."""
