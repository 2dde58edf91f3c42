"""imarchive: an append-only, self-verifying archive of WhatsApp and WeChat messages."""

__version__ = "0.1.0"
