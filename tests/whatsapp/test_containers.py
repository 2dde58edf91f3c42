"""Zip and folder inputs, built with the real zipfile module: media, hostile and broken zips."""

from __future__ import annotations

import hashlib
import json
import stat
import zipfile
from pathlib import Path

import pytest

from imarchive.errors import SourceError
from imarchive.model import AttachmentStatus, MessageKind
from imarchive.sources import containers
from imarchive.sources.base import ReadOptions
from tests.core.helpers import android_export, ingest, ingest_json, read_rows
from tests.support import candidate_for, read_all
from tests.whatsapp.helpers import READER, accounted
from tests.whatsapp.make_samples import jpeg, png

CHAT = (
    "[3/27/22, 21:41:35] Alice: Hello\r\n"
    "\u200e[3/27/22, 21:41:55] Alice: \u200e<attached: 00000035-PHOTO-2022-03-27-21-41-55.jpg>\r\n"
    "[3/27/22, 21:42:01] Bob: nice \u200e<attached: 00000036-PHOTO-2022-03-27-21-42-01.png>\r\n"
    "[3/27/22, 21:42:09] Bob: \u200e<attached: 00000037-VIDEO-2022-03-27-21-42-09.mp4>\r\n"
)


def _zip(path: Path, members: dict[str, bytes], **kw: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_ios_zip_with_media_macosx_and_missing(tmp_path: Path) -> None:
    photo, shot = jpeg(), png(2, 2, (1, 2, 3))
    path = _zip(
        tmp_path / "WhatsApp Chat - Team X.zip",
        {
            "_chat.txt": CHAT.encode(),
            "00000035-PHOTO-2022-03-27-21-41-55.jpg": photo,
            "media/00000036-PHOTO-2022-03-27-21-42-01.png": shot,  # under a sub-folder
            "__MACOSX/._00000035-PHOTO-2022-03-27-21-41-55.jpg": b"\x00\x05\x16\x07",
            "__MACOSX/._chat.txt": b"\x00\x05\x16\x07",
        },
    )
    cand = candidate_for(path)
    assert READER.score(cand) >= 0.9
    assert READER.source_files(cand) == [path]
    msgs, ctx = read_all(READER, path, ReadOptions(timezone="UTC"))
    assert len(msgs) == 4
    assert msgs[0].conversation_id == "/Team X"
    assert msgs[0].source_path == f"{path}!_chat.txt"
    assert msgs[0].source_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    a1, a2, a3 = (m.attachments[0] for m in msgs[1:])
    assert (a1.status, a1.sha256, a1.size, a1.media_type) == (
        AttachmentStatus.STORED,
        hashlib.sha256(photo).hexdigest(),
        len(photo),
        "image/jpeg",
    )
    assert (a2.status, a2.sha256) == (AttachmentStatus.STORED, hashlib.sha256(shot).hexdigest())
    assert (a3.status, a3.name, a3.sha256) == (
        AttachmentStatus.MISSING,
        "00000037-VIDEO-2022-03-27-21-42-09.mp4",
        None,
    )
    assert [m.kind for m in msgs[1:]] == [MessageKind.IMAGE, MessageKind.IMAGE, MessageKind.VIDEO]
    assert msgs[2].body.startswith("nice ")  # caption stays in the body
    assert set(ctx.media.stored) == {a1.sha256, a2.sha256}
    assert ctx.report.rejected == []  # __MACOSX entries are not reported
    assert ctx.report.lines_total == 4 == accounted(ctx, msgs)


def test_android_zip_with_chat_name(tmp_path: Path) -> None:
    path = _zip(
        tmp_path / "export.zip",
        {
            "WhatsApp Chat mit Jonas.txt": b"29.01.24, 09:01 - Jonas: IMG-20240129-WA0001.jpg "
            b"(Datei angeh\xc3\xa4ngt)\nBildunterschrift\n",
            "IMG-20240129-WA0001.jpg": jpeg(),
        },
    )
    msgs, _ = read_all(READER, path, ReadOptions(timezone="UTC"))
    (m,) = msgs
    assert m.conversation_name == "Jonas"
    assert m.kind is MessageKind.IMAGE and m.native_type == "IMG"
    assert m.attachments[0].status is AttachmentStatus.STORED


def test_unzipped_ios_folder_is_one_input(tmp_path: Path) -> None:
    folder = tmp_path / "WhatsApp Chat - Team X"
    folder.mkdir()
    (folder / "_chat.txt").write_bytes(CHAT.encode())
    (folder / "00000035-PHOTO-2022-03-27-21-41-55.jpg").write_bytes(jpeg())
    cand = candidate_for(folder)
    assert cand.is_dir and READER.score(cand) >= 0.9
    assert READER.source_files(cand) == [folder / "_chat.txt"]
    msgs, _ = read_all(READER, folder, ReadOptions(timezone="UTC", conversation="Override"))
    assert msgs[0].conversation_name == "Override"
    statuses = [m.attachments[0].status for m in msgs[1:]]
    assert statuses == [AttachmentStatus.STORED, AttachmentStatus.MISSING, AttachmentStatus.MISSING]
    plain = tmp_path / "holiday photos"
    plain.mkdir()
    (plain / "a.txt").write_text("hello\n")
    assert READER.score(candidate_for(plain)) == 0.0


@pytest.mark.parametrize("other", ["zip", "txt", "folder", "unknown"])
def test_a_drop_folder_with_one_chat_is_walked(tmp_path: Path, other: str) -> None:
    """One chat text at the top of a drop folder does not make the folder an export:
    whatever else lies there is ingested or reported, never passed over."""
    drop = tmp_path / "drop"
    drop.mkdir()
    android_export(drop / "WhatsApp Chat with Bob Sample.txt", 5)
    (drop / "IMG-20240314-WA0001.jpg").write_bytes(jpeg())  # media beside it: no report
    second = android_export(tmp_path / "WhatsApp Chat with Carol.txt", 7, start=100)
    if other == "zip":
        _zip(
            drop / "WhatsApp Chat - Carol.zip",
            {"WhatsApp Chat with Carol.txt": second.read_bytes()},
        )
    elif other == "txt":
        (drop / "notes.txt").write_bytes(second.read_bytes())
    elif other == "folder":
        (drop / "older").mkdir()
        second.rename(drop / "older" / second.name)
    else:
        (drop / "garbage.bin").write_bytes(bytes(range(256)) * 16)
    data = ingest_json(tmp_path / "archive", drop)
    found = {Path(i["path"]).name: (i["status"], i["messages_new"]) for i in data["inputs"]}
    first = found.pop("WhatsApp Chat with Bob Sample.txt")
    assert first[0] == "ingested" and first[1] >= 5
    if other == "unknown":
        assert found == {"garbage.bin": ("rejected", 0)}
    else:
        ((status, new),) = found.values()
        assert status == "ingested" and new >= 7


def test_an_export_folder_given_directly_stays_one_input(tmp_path: Path) -> None:
    folder = tmp_path / "WhatsApp Chat with Bob Sample"
    folder.mkdir()
    android_export(folder / "WhatsApp Chat with Bob Sample.txt", 5)
    (folder / "IMG-20240314-WA0001.jpg").write_bytes(jpeg())
    (folder / "minutes.pdf").write_bytes(b"%PDF-1.4 synthetic")
    (folder / ".DS_Store").write_bytes(b"\x00")
    data = ingest_json(tmp_path / "archive", folder)
    assert [(i["path"], i["status"]) for i in data["inputs"]] == [(str(folder), "ingested")]


def test_loose_media_next_to_a_txt(tmp_path: Path) -> None:
    (tmp_path / "PTT-20220323-WA0000.opus").write_bytes(b"OggS synthetic")
    path = tmp_path / "WhatsApp Chat with Bob.txt"
    path.write_text("23/03/2022, 13:31 - Bob: PTT-20220323-WA0000.opus (file attached)\n")
    (m,), _ = read_all(READER, path, ReadOptions(timezone="UTC"))
    assert m.kind is MessageKind.VOICE
    assert m.attachments[0].status is AttachmentStatus.STORED


def test_loose_files_are_named_by_their_own_names(tmp_path: Path) -> None:
    """Two chats saved under names of their own in one drop folder are two conversations
    (each its file name), not one named after the folder: the same short message in both
    is archived twice. A loose ``_chat.txt`` takes its folder's name."""
    drop = tmp_path / "dropfolder"
    drop.mkdir()
    (drop / "chat with bob.txt").write_text(
        "23/03/2022, 13:31 - Ann: ok\n23/03/2022, 13:32 - Bob: hi\n"
    )
    (drop / "chat with carl.txt").write_text(
        "23/03/2022, 13:31 - Ann: ok\n23/03/2022, 13:33 - Carl: yo\n"
    )
    archive = tmp_path / "archive"
    out = ingest_json(archive, drop, extra=["--custodian", "cust"])
    assert out["totals"]["messages_new"] == 4
    convs = {(r["conversation_id"], r["conversation_name"]) for r in read_rows(archive)}
    assert convs == {
        ("cust/chat with bob", "chat with bob"),
        ("cust/chat with carl", "chat with carl"),
    }
    ios = tmp_path / "Desk Ops"
    ios.mkdir()
    (ios / "_chat.txt").write_text("[23/03/2022, 13:31:00] Ann: ok\r\n")
    (m,), _ = read_all(READER, ios / "_chat.txt", ReadOptions(timezone="UTC"))
    assert m.conversation_name == "Desk Ops"


def _raw_member(path: Path, name: str, data: bytes, attr: int = 0o644 << 16) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("_chat.txt", CHAT)
        info = zipfile.ZipInfo(name)
        info.external_attr = attr
        zf.writestr(info, data)
    return path


@pytest.mark.parametrize(
    "name", ["../evil.jpg", "/etc/evil.jpg", "a/../../evil.jpg", "C:\\evil.jpg"]
)
def test_zip_slip_is_rejected(tmp_path: Path, name: str) -> None:
    path = _raw_member(tmp_path / "slip.zip", name, b"x")
    with pytest.raises(SourceError, match="unsafe path"):
        read_all(READER, path)


def test_symlink_member_is_rejected(tmp_path: Path) -> None:
    path = _raw_member(
        tmp_path / "link.zip", "photo.jpg", b"/etc/passwd", (stat.S_IFLNK | 0o777) << 16
    )
    with pytest.raises(SourceError, match="symbolic link"):
        read_all(READER, path)


def test_zip_bomb_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("_chat.txt", CHAT)
        zf.writestr("00000035-PHOTO-x.jpg", bytes(8 * 1024 * 1024))  # ~1000x ratio
    with pytest.raises(SourceError, match="compression ratio"):
        read_all(READER, path)


def test_total_size_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(containers, "MAX_TOTAL_UNCOMPRESSED", 100)
    path = _zip(tmp_path / "big.zip", {"_chat.txt": CHAT.encode()})
    with pytest.raises(SourceError, match="size limit"):
        read_all(READER, path)


def test_truncated_zip_is_rejected(tmp_path: Path) -> None:
    good = _zip(tmp_path / "good.zip", {"_chat.txt": CHAT.encode() * 50, "x.jpg": jpeg()})
    data = good.read_bytes()
    bad = tmp_path / "WhatsApp Chat - cut.zip"
    bad.write_bytes(data[: len(data) // 2])
    from imarchive.sources.base import Candidate

    cand = Candidate(bad, str(bad), False, data[:100], ("_chat.txt", "x.jpg"))
    from tests.support import DirectContext

    with pytest.raises(SourceError, match="corrupt or truncated"):
        list(READER.read(cand, DirectContext(ReadOptions(timezone="UTC"))))


def test_corrupt_member_is_rejected(tmp_path: Path) -> None:
    path = _zip(tmp_path / "crc.zip", {"_chat.txt": CHAT.encode() * 20})
    data = bytearray(path.read_bytes())
    data[60] ^= 0xFF  # inside the compressed chat text
    path.write_bytes(bytes(data))
    with pytest.raises(SourceError):
        read_all(READER, path)


def test_zip_without_chat_scores_zero(tmp_path: Path) -> None:
    path = _zip(tmp_path / "photos.zip", {"a.jpg": jpeg(), "b.jpg": jpeg(2)})
    assert READER.score(candidate_for(path)) == 0.0


def test_zip_member_with_an_impossible_date(tmp_path: Path) -> None:
    """Fuzzing found it: a DOS date of month 13, day 0, 25:61:62 fits the zip fields; the
    chat is still read, and a year-less legacy header takes the member's year."""
    path = tmp_path / "WhatsApp Chat - Old friends.zip"
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo("WhatsApp Chat with Old friends.txt", (2019, 13, 0, 25, 61, 62))
        zf.writestr(info, "18 Mar 12:14 - Alice: hi\n19 Mar 08:00 - Bob: hello\n")
    msgs, ctx = read_all(READER, path, ReadOptions(timezone="UTC"))
    assert [m.body for m in msgs] == ["hi", "hello"]
    assert {m.sent_at.year for m in msgs} == {2019}
    assert ctx.report.facts["year_assumed"] == 2019


def test_a_walked_folder_skips_what_a_mac_leaves(tmp_path: Path) -> None:
    """A drop folder copied from a Mac, or a zip unzipped there, holds ``__MACOSX/`` and
    AppleDouble ``._name`` files: no chat, and no rejection (a cron run would fail on
    them). A ``._name`` file that is not AppleDouble is still an input."""
    drop = tmp_path / "drop"
    (drop / "__MACOSX").mkdir(parents=True)
    android_export(drop / "WhatsApp Chat with Bob Sample.txt", 5)
    android_export(drop / "WhatsApp Chat with Carol.txt", 4, start=50)
    fork = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + bytes(64)
    (drop / "__MACOSX" / "._WhatsApp Chat with Carol.txt").write_bytes(fork)
    (drop / "._WhatsApp Chat with Carol.txt").write_bytes(fork)
    (drop / "._IMG-20240314-WA0001.jpg").write_bytes(fork)
    (drop / "._notes.txt").write_bytes(b"not a resource fork\n")
    proc = ingest(tmp_path / "archive", drop, extra=["--json"])
    data = json.loads(proc.stdout)
    found = {Path(i["path"]).name: i["status"] for i in data["inputs"]}
    assert found == {
        "WhatsApp Chat with Bob Sample.txt": "ingested",
        "WhatsApp Chat with Carol.txt": "ingested",
        "._notes.txt": "rejected",
    }


def test_an_archive_inside_the_drop_folder_is_no_input(tmp_path: Path) -> None:
    """``ingest /share --archive /share/archive``: the walk passes the archive by (its
    records and its copies of the sources are no chat exports), every night; another
    archive found there, or a PATH inside the archive, is refused by name."""
    share = tmp_path / "share"
    share.mkdir()
    android_export(share / "WhatsApp Chat with Bob Sample.txt", 5)
    archive = share / "archive"
    for _night in range(2):
        proc = ingest(archive, share, extra=["--json"])
        assert proc.returncode == 0, proc.stderr
        paths = [i["path"] for i in json.loads(proc.stdout)["inputs"]]
        assert paths == [str(share / "WhatsApp Chat with Bob Sample.txt")]
    (share / "old").mkdir()
    chat = share / "WhatsApp Chat with Bob Sample.txt"
    assert ingest(share / "old" / "copy", chat).returncode == 0
    proc = ingest(archive, share, archive / "sources", extra=["--json"])
    assert proc.returncode == 1
    errors = {i["path"]: i["error"] for i in json.loads(proc.stdout)["inputs"] if i["error"]}
    assert errors == {
        str(share / "old" / "copy"): "an imarchive archive, not a chat export (not walked)",
        str(archive / "sources"): "inside the archive being written: its own files are no input",
    }
    assert len(read_rows(archive)) == 6  # android_export(…, 5) writes 6 messages


def test_a_drop_folder_named_by_a_symbolic_link_is_walked(tmp_path: Path) -> None:
    """cron given /srv/drop, a link to the share's folder (with or without a trailing
    slash): its chats are read, not the link refused as 'not recognised'."""
    share = tmp_path / "share"
    share.mkdir()
    android_export(share / "WhatsApp Chat with Bob Sample.txt", 5)
    android_export(share / "WhatsApp Chat with Carol.txt", 4, start=50)
    link = tmp_path / "drop"
    link.symlink_to(share)
    for given in (str(link), str(link) + "/"):
        archive = tmp_path / f"archive{len(given)}"
        proc = ingest(archive, Path(given), extra=["--json"])
        assert proc.returncode == 0, proc.stderr
        inputs = json.loads(proc.stdout)["inputs"]
        assert sorted(Path(i["path"]).name for i in inputs) == [
            "WhatsApp Chat with Bob Sample.txt",
            "WhatsApp Chat with Carol.txt",
        ]
        assert len(read_rows(archive)) == 11
