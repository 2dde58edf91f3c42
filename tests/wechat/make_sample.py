"""Builds ``samples/wechat/``: a small decrypted Windows 3.x dump of synthetic people.

    python -m tests.wechat.make_sample [DEST]

The tree is ``WeChat Files/wxid_owner01/Msg`` with two MSG shards (the newest messages
only in ``MSG1.db-wal``) and ``MicroMsg.db``, plus one image under ``FileStorage``;
``imarchive ingest "samples/wechat/WeChat Files/wxid_owner01"`` reads it as wechat-pc3.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from tests.wechat import layouts

DEFAULT = Path(__file__).resolve().parents[2] / "samples" / "wechat"


def main(argv: list[str]) -> int:
    dest = Path(argv[0]) if argv else DEFAULT
    target = dest / "WeChat Files"
    with tempfile.TemporaryDirectory() as tmp:
        account = layouts.build_pc3(Path(tmp))
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        shutil.copytree(account, target / account.name)
    sys.stdout.write(f"wrote {target / account.name}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
