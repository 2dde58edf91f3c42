"""The parts of ``imarchive.verify``: problem codes, read-only file access, batch
records and the chain, derived files (manifest, SHA256SUMS), Parquet checks."""
