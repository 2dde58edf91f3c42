"""Parse one WhatsApp export with a Python peer and print one JSON line.

Runs inside the peers' own virtual environment (``benchmarks/.peers/venv``), never the
project's. Usage: ``py_peer.py whatstk-auto|whatstk-hformat|chat-miner FILE [HFORMAT]``.
The JSON holds ``messages`` (what the peer returned), ``parse_seconds`` (the parse call only),
``version`` and ``notes``.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
import time
from importlib import metadata
from typing import Any


def _whatstk(path: str, hformat: str | None) -> tuple[int, float, str, list[str]]:
    from whatstk.whatsapp import parser  # type: ignore[import-not-found]
    from whatstk.whatsapp.objects import WhatsAppChat  # type: ignore[import-not-found]

    notes: list[str] = []
    kwargs: dict[str, Any] = {}
    if "max_size" in inspect.signature(parser.df_from_whatsapp).parameters:
        kwargs["max_size"] = None  # the default caps input at 50 MB
        notes.append("max_size=None")
    if hformat is not None:
        kwargs["auto_header"] = False
        kwargs["hformat"] = hformat
        notes.append(f"hformat={hformat!r}")
    else:
        notes.append("auto_header=True")
    t0 = time.perf_counter()
    chat = WhatsAppChat.from_source(filepath=path, **kwargs)
    seconds = time.perf_counter() - t0
    return len(chat.df), seconds, metadata.version("whatstk"), notes


def _chat_miner(path: str) -> tuple[int, float, str, list[str]]:
    from chatminer.chatparsers import WhatsAppParser  # type: ignore[import-not-found]

    t0 = time.perf_counter()
    p = WhatsAppParser(path)
    p.parse_file()
    seconds = time.perf_counter() - t0
    return len(p.parsed_messages._parsed_messages), seconds, metadata.version("chat-miner"), []


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        sys.stderr.write(__doc__ or "")
        return 2
    mode, path = argv[0], argv[1]
    if mode == "whatstk-auto":
        n, seconds, version, notes = _whatstk(path, None)
    elif mode == "whatstk-hformat":
        n, seconds, version, notes = _whatstk(path, argv[2])
    elif mode == "chat-miner":
        os.environ.setdefault("TQDM_DISABLE", "1")
        n, seconds, version, notes = _chat_miner(path)
    else:
        sys.stderr.write(f"unknown peer mode {mode!r}\n")
        return 2
    out = {"messages": n, "parse_seconds": seconds, "version": version, "notes": notes}
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
