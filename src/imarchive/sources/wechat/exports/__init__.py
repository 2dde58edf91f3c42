"""WeChat text exports made by third-party tools: MemoTrace CSV, PyWxDump CSV and
WechatExporter TXT (formats/wechat.md, "Text exports made by third-party tools").

They hold less than the databases they were made from, so their rows are marked: the
``source_format`` names the tool, and each input gets a ``third_party_export`` warning that
says what the export lacks. What they do hold is kept exactly:

- MemoTrace CSV: the database row (``localId``, ``Type``/``SubType``, ``IsSender``, the epoch
  ``CreateTime``, ``StrContent``) of one chat; group chats add the sender's remark, nickname
  and wxid. No server id, no conversation id: the chat is named by ``--conversation`` or
  the file name, as for WhatsApp. An export of all chats in one file is rejected.
- PyWxDump CSV: server id, type name, sender wxid (the owner as ``我``), the conversation id
  (``room_name``), the readable text, a media path, and a *local* time string
  (``--timezone``).
- Neither CSV names the owner: ``--owner`` gives the wxid (``account_id``).
- WechatExporter TXT: ``NAME (YYYY-MM-DD HH:MM:SS):MESSAGE`` in the local time of the
  computer that exported it, bodies over several lines as they are, ``System Message: …``
  lines without a time, and notices and transfers written with no line end before the next
  header (told apart by the names that open lines); a timeless record takes the time of
  the message before it, with a warning. The title line names the chat.

Identity follows the SPEC: the server id where there is one (PyWxDump), else ``local:``
with the local id (MemoTrace ``localId``, PyWxDump ``id``; for WechatExporter, which has
none, the count ``n`` of earlier records of the file with the same time, name and text,
as for WhatsApp), the time, the sender and the sha256 of ``raw`` (the record as written,
without its line end; hashed with ``\n`` line ends, so that a copy re-saved with CRLF line
ends gives the same ids).
"""

from __future__ import annotations

from imarchive.sources.wechat.exports.memotrace import MEMOTRACE_HEADER, MemoTraceCsvReader
from imarchive.sources.wechat.exports.pywxdump import PYWXDUMP_HEADER, PyWxDumpCsvReader
from imarchive.sources.wechat.exports.wechatexporter import WechatExporterTxtReader

READERS: tuple[MemoTraceCsvReader | PyWxDumpCsvReader | WechatExporterTxtReader, ...] = (
    MemoTraceCsvReader(),
    PyWxDumpCsvReader(),
    WechatExporterTxtReader(),
)

__all__ = ["MEMOTRACE_HEADER", "PYWXDUMP_HEADER", "READERS"]
