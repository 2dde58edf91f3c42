"""Pure-Python SQLCipher page decryption for the four WeChat profiles.

Every profile shares one page layout (formats/wechat.md, "Decrypting in pure Python"):
the salt stands where ``SQLite format 3\\0`` would be, each page ends with ``reserve``
bytes holding the IV and (where the profile has one) the page HMAC. We write a plain
SQLite copy to a temporary file that stdlib ``sqlite3`` opens; the input is only read.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from imarchive.errors import SourceError
from imarchive.sources.wechat import wal

SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass(frozen=True)
class Profile:
    name: str
    page_size: int
    reserve: int
    kdf: str | None  # hash of the PBKDF2 that turns the key into enc_key; None = raw key
    kdf_iter: int
    hmac_hash: str | None  # None = no page HMAC (SQLCipher 1)
    hex_key: bool  # the key is 64 hex chars (PC) rather than a passphrase (Android)

    @property
    def hmac_size(self) -> int:
        return 0 if self.hmac_hash is None else hashlib.new(self.hmac_hash).digest_size


# Windows 3.x: `PRAGMA hexkey` + cipher_compatibility=3, page 4096 (the KDF runs on the key bytes).
WIN3 = Profile("windows-3.x", 4096, 48, "sha1", 64000, "sha1", True)
# WeChat 4.x: SQLCipher 4 defaults.
V4 = Profile("wechat-4.x", 4096, 80, "sha512", 256000, "sha512", True)
# Android EnMicroMsg.db: SQLCipher 1, no HMAC, so a wrong key shows only in the page-1 header.
ANDROID = Profile("android", 1024, 16, "sha1", 4000, None, False)
# macOS 3.x: a raw key (`x'…'`), no KDF for enc_key; the HMAC key is still derived.
MAC3 = Profile("macos-3.x", 1024, 48, None, 0, "sha1", True)

PROFILES = (WIN3, V4, ANDROID, MAC3)


def is_plain_sqlite(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(16) == SQLITE_MAGIC


def key_fingerprint(key: str) -> str:
    """What the batch record may keep about a key: never the key itself."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]


def _key_bytes(key: str, profile: Profile) -> bytes | None:
    if profile.hex_key:
        text = key.strip()
        if len(text) != 64:
            return None
        try:
            return bytes.fromhex(text)
        except ValueError:
            return None
    return key.strip().encode("utf-8")


@dataclass(frozen=True)
class PageKeys:
    enc: bytes
    mac: bytes | None


def derive(key: bytes, salt: bytes, profile: Profile) -> PageKeys:
    enc = (
        key
        if profile.kdf is None
        else hashlib.pbkdf2_hmac(profile.kdf, key, salt, profile.kdf_iter, 32)
    )
    if profile.hmac_hash is None:
        return PageKeys(enc, None)
    mac_salt = bytes(b ^ 0x3A for b in salt)
    return PageKeys(enc, hashlib.pbkdf2_hmac(profile.hmac_hash, enc, mac_salt, 2, 32))


class PageDecryptor:
    """Checks and decrypts single pages of one file (main file or its WAL)."""

    def __init__(self, keys: PageKeys, profile: Profile) -> None:
        self.profile = profile
        self.keys = keys
        self._mac = (
            None
            if keys.mac is None or profile.hmac_hash is None
            else hmac.new(keys.mac, digestmod=profile.hmac_hash)
        )

    def check(self, page: bytes, pgno: int) -> bool:
        if self._mac is None:
            return True
        p = self.profile
        off = 16 if pgno == 1 else 0
        end = p.page_size - p.reserve
        mac = self._mac.copy()
        mac.update(page[off : end + 16])
        mac.update(struct.pack("<I", pgno))
        return hmac.compare_digest(mac.digest(), page[end + 16 : end + 16 + p.hmac_size])

    def decrypt(self, page: bytes, pgno: int) -> bytes:
        """The plaintext page as SQLite expects it: the original reserve bytes are kept
        because the header's reserved-space byte still counts them."""
        p = self.profile
        off = 16 if pgno == 1 else 0
        end = p.page_size - p.reserve
        iv = page[end : end + 16]
        dec = Cipher(algorithms.AES(self.keys.enc), modes.CBC(iv)).decryptor()
        plain = dec.update(page[off:end]) + dec.finalize()
        if pgno == 1:
            plain = SQLITE_MAGIC + plain
        return plain + page[end:]


def _header_ok(plain_page1: bytes, profile: Profile) -> bool:
    # Bytes 16-17 page size (1 means 65536), 21-23 the fixed payload fractions 64/32/32.
    size = int.from_bytes(plain_page1[16:18], "big")
    return (size == profile.page_size or (size == 1 and profile.page_size == 65536)) and (
        plain_page1[21:24] == b"\x40\x20\x20"
    )


def find_key(
    path: Path, name: str, keys: tuple[str, ...], profile: Profile
) -> tuple[str, PageDecryptor]:
    """The first key that opens ``path``; ``SourceError`` naming the file otherwise."""
    with path.open("rb") as fh:
        page1 = fh.read(profile.page_size)
    if len(page1) < profile.page_size:
        raise SourceError(f"cannot decrypt {name}: truncated (shorter than one page)")
    candidates = [(k, kb) for k in keys if (kb := _key_bytes(k, profile)) is not None]
    if not candidates:
        raise SourceError(
            f"{name} is encrypted: give its key with --key or --key-file "
            f"({'64 hex characters' if profile.hex_key else 'the 7-character passphrase'})"
        )
    salt = page1[:16]
    for key, kb in candidates:
        dec = PageDecryptor(derive(kb, salt, profile), profile)
        if dec.check(page1, 1) and _header_ok(dec.decrypt(page1, 1), profile):
            return key, dec
    why = "HMAC fails on page 1" if profile.hmac_hash else "page 1 is not a SQLite header"
    raise SourceError(f"cannot decrypt {name}: no key matches ({why})")


def decrypt_file(
    src: Path,
    wal_path: Path | None,
    dst: Path,
    dec: PageDecryptor,
    name: str,
) -> None:
    """Decrypt ``src`` (and its committed WAL frames) into a plain SQLite file ``dst``."""
    p = dec.profile
    with src.open("rb") as fin, dst.open("wb") as fout:
        pgno = 0
        while True:
            page = fin.read(p.page_size)
            if not page:
                break
            pgno += 1
            if len(page) < p.page_size:
                raise SourceError(f"cannot decrypt {name}: truncated at page {pgno}")
            if not dec.check(page, pgno):
                raise SourceError(
                    f"cannot decrypt {name}: HMAC fails on page {pgno} (damaged file)"
                )
            fout.write(dec.decrypt(page, pgno))
        if wal_path is not None:
            _apply_wal(wal_path, fout, p.page_size, name, dec)
    wal.mark_rollback_journal(dst)


def _apply_wal(
    wal_path: Path, fout: BinaryIO, page_size: int, name: str, dec: PageDecryptor
) -> None:
    def transform(page: bytes, pgno: int) -> bytes:
        if not dec.check(page, pgno):
            raise SourceError(f"cannot decrypt {name}-wal: HMAC fails on the frame of page {pgno}")
        return dec.decrypt(page, pgno)

    wal.apply(wal_path, fout, page_size, transform)
