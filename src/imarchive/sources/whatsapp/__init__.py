"""WhatsApp "Export chat" readers."""

from imarchive.sources.base import Reader
from imarchive.sources.whatsapp.reader import READER

READERS: tuple[Reader, ...] = (READER,)
