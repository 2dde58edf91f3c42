"""WeChat database readers: PC 3.x, PC 4.x, iOS backups and Android ``EnMicroMsg.db``."""

from imarchive.sources.base import Reader
from imarchive.sources.wechat import android, ios, pc3, pc4

READERS: tuple[Reader, ...] = (pc3.READER, pc4.READER, ios.READER, android.READER)
