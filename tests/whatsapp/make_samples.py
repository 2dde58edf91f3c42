"""Writes the synthetic WhatsApp samples under ``samples/whatsapp/`` (people are invented).

Run from the repository root: ``python -m tests.whatsapp.make_samples``. The output is
deterministic (fixed zip dates), so the checked-in samples and their golden files only
change when this script does.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "samples" / "whatsapp"
ZIP_DATE = (2024, 4, 13, 18, 0, 0)
LRM = "\u200e"


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A valid, tiny, single-colour PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    row = b"\x00" + bytes(rgb) * width
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(row * height, 9))
        + chunk(b"IEND", b"")
    )


def jpeg(quant: int = 1) -> bytes:
    """A valid 8x8 grey baseline JPEG: one block, DC difference 0, end of block.

    Both Huffman tables hold one one-bit code ("0"), so the scan is the bits "00"
    padded with ones."""
    seg = lambda marker, body: b"\xff" + marker + struct.pack(">H", len(body) + 2) + body  # noqa: E731
    one_code = bytes([1] + [0] * 15) + b"\x00"
    return (
        b"\xff\xd8"
        + seg(b"\xdb", b"\x00" + bytes([quant]) * 64)
        + seg(b"\xc0", b"\x08" + struct.pack(">HH", 8, 8) + b"\x01\x01\x11\x00")
        + seg(b"\xc4", b"\x00" + one_code)
        + seg(b"\xc4", b"\x10" + one_code)
        + seg(b"\xda", b"\x01\x01\x00\x00\x3f\x00")
        + b"\x3f\xff\xd9"
    )


ANDROID_EN = """\
14/03/2024, 09:12 - Messages and calls are end-to-end encrypted. No one outside of this chat, \
not even WhatsApp, can read or listen to them. Tap to learn more.
14/03/2024, 09:12 - Sam Carter: Morning Priya, did the Q1 desk report go out?
14/03/2024, 09:15 - Priya Shah: Not yet. Two things outstanding:
1. the FX reconciliation
2. sign-off from compliance

I'll chase both before lunch.
14/03/2024, 09:16 - Sam Carter: 👍
14/03/2024, 09:20 - Priya Shah: <Media omitted>
14/03/2024, 09:20 - Priya Shah: That's the draft cover page
14/03/2024, 09:31 - Sam Carter: This message was deleted
14/03/2024, 09:32 - Sam Carter: Looks good. Send it to the team when ready <This message was edited>
14/03/2024, 11:02 - Priya Shah: location: https://maps.google.com/?q=51.5154,-0.0922
14/03/2024, 11:02 - Priya Shah: Meeting point for the client lunch
14/03/2024, 13:05 - Sam Carter: POLL:
Lunch on Friday?
OPTION: Yes (1 vote)
OPTION: No (0 votes)

14/03/2024, 13:10 - Priya Shah: Vikram Rao.vcf (file attached)
14/03/2024, 16:40 - Your security code with Priya Shah changed. Tap to learn more.
15/03/2024, 08:05 - Priya Shah: Report sent ✅ https://example.com/q1-desk-report
15/03/2024, 08:06 - Sam Carter: null
"""

IOS_GROUP = [
    f"{LRM}[02/04/2024, 10:00:00] Desk Ops: {LRM}Messages and calls are end-to-end encrypted. "
    "No one outside of this chat, not even WhatsApp, can read or listen to them.",
    f"{LRM}[02/04/2024, 10:00:00] {LRM}Nadia Okafor created group “Desk Ops”",
    f"{LRM}[02/04/2024, 10:00:05] {LRM}Nadia Okafor added Leo Martins",
    "[02/04/2024, 10:01:12] Nadia Okafor: Welcome all. Daily limits are in the pinned doc.",
    "[02/04/2024, 10:02:40] Leo Martins: Thanks! Quick one:\nare we still flat on EURUSD?\n"
    "I see a small residual",
    f"{LRM}[02/04/2024, 10:03:01] Nadia Okafor: {LRM}<attached: "
    "00000003-PHOTO-2024-04-02-10-03-01.jpg>",
    f"[02/04/2024, 10:03:30] Nadia Okafor: Screenshot of the blotter {LRM}<attached: "
    "00000004-PHOTO-2024-04-02-10-03-30.png>",
    "[02/04/2024, 10:04:10] \u202a+44\u00a07700\u00a0900123\u202c: Residual is from the 09:58 fill",
    f"{LRM}[02/04/2024, 10:05:00] Leo Martins: Q1 limits.pdf • {LRM}2 pages {LRM}<attached: "
    "00000006-Q1 limits.pdf>",
    "[13/04/2024, 17:45:09] Leo Martins: Closing out for today",
    f"{LRM}[13/04/2024, 17:46:00] Nadia Okafor: {LRM}This message was deleted.",
]

LEGACY_ANDROID = """\
19:23, 28 Aug 2013 - Tom Baker: Are you coming to the 8pm call?
19:25, 28 Aug 2013 - Sam Carter: Yes, dialling in from the train
19:26, 28 Aug 2013 - Tom Baker: Ok. Agenda:
- book review
- Q3 targets
09:02, 29 Aug 2013 - Sam Carter: <Media omitted>
"""

GERMAN_GROUP = """\
29.01.24, 08:55 - Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt. Niemand außerhalb \
dieses Chats kann sie lesen oder anhören, nicht einmal WhatsApp. Tippe, um mehr zu erfahren.
29.01.24, 08:56 - Jonas Becker hat die Gruppe „Handelsteam“ erstellt
29.01.24, 08:56 - Jonas Becker hat Mia Wagner hinzugefügt
29.01.24, 09:01 - Jonas Becker: Guten Morgen! Bitte bis 10 Uhr die Positionen melden.
29.01.24, 09:03 - Mia Wagner: Mach ich.
Kurze Frage: gilt das auch für Optionen?
29.01.24, 09:04 - Jonas Becker: <Medien ausgeschlossen>
29.01.24, 09:05 - Mia Wagner: Diese Nachricht wurde gelöscht.
30.01.24, 17:30 - Jonas Becker: Schönen Feierabend 🙂
"""


def _zip(path: Path, members: list[tuple[str, bytes]]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "WhatsApp Chat with Priya Shah.txt").write_bytes(ANDROID_EN.encode())
    (OUT / "WhatsApp Chat with Tom Baker.txt").write_bytes(LEGACY_ANDROID.encode())
    (OUT / "WhatsApp Chat mit Handelsteam.txt").write_bytes(GERMAN_GROUP.encode())
    chat = ("\r\n".join(IOS_GROUP) + "\r\n").encode()
    _zip(
        OUT / "WhatsApp Chat - Desk Ops.zip",
        [
            ("_chat.txt", chat),
            ("00000003-PHOTO-2024-04-02-10-03-01.jpg", jpeg()),
            ("00000004-PHOTO-2024-04-02-10-03-30.png", png(4, 3, (30, 144, 255))),
            # re-zipped on a Mac: AppleDouble resource forks, to be ignored
            ("__MACOSX/._00000003-PHOTO-2024-04-02-10-03-01.jpg", b"\x00\x05\x16\x07" + bytes(28)),
        ],
    )


if __name__ == "__main__":
    main()
