"""WeChat readers: the databases of PC 3.x, PC 4.x, iOS backups and Android
``EnMicroMsg.db``, and the text exports of MemoTrace, PyWxDump and WechatExporter."""

from imarchive.sources.base import Reader
from imarchive.sources.wechat import android, exports, ios, pc3, pc4

READERS: tuple[Reader, ...] = (
    pc3.READER,
    pc4.READER,
    ios.READER,
    android.READER,
    *exports.READERS,
)
