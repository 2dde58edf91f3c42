"""The peers' own environment under ``benchmarks/.peers`` (git-ignored).

The peers are never dependencies of ``imarchive``: the Python ones go into a separate virtual
environment, the JavaScript one into a separate npm prefix. Versions are pinned so that figures
from different runs compare; change the pins here. A peer that cannot be installed is skipped
with a reason, and the rest of the benchmark runs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

__all__ = ["JS_PIN", "PEERS_DIR", "PY_PINS", "Peer", "PeerEnv", "ensure"]

HERE: Final = Path(__file__).resolve().parent
PEERS_DIR: Final = HERE / ".peers"
PY_PINS: Final = ("whatstk==0.9.1", "chat-miner==0.6.0")
JS_PIN: Final = "whatsapp-chat-parser@4.0.2"

# whatstk's header format for the generated dialects (its own mini-language).
HFORMATS: Final = {
    "android": "%d/%m/%Y, %H:%M - %name:",
    "ios": "[%d/%m/%Y, %H:%M:%S] %name:",
}


@dataclass(frozen=True)
class Peer:
    name: str  # case name in the table
    label: str  # what it is, for the README and the JSON
    argv: tuple[str, ...]  # the input file is appended


@dataclass
class PeerEnv:
    peers: list[Peer] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # name -> reason
    log: list[str] = field(default_factory=list)


def _run(argv: list[str], cwd: Path | None = None) -> tuple[bool, str]:
    try:
        proc = subprocess.run(
            argv, cwd=cwd, capture_output=True, text=True, timeout=900, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"{type(exc).__name__}: {exc}"
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
    return proc.returncode == 0, " | ".join(tail)


def _python_peers(env: PeerEnv, dialect: str) -> None:
    venv = PEERS_DIR / "venv"
    py = venv / "bin" / "python"
    driver = str(HERE / "peers" / "py_peer.py")
    probe = [str(py), "-c", "import whatstk, chatminer"]
    if not (py.exists() and _run(probe)[0]):
        env.log.append(f"installing {' '.join(PY_PINS)} into {venv}")
        ok, why = _run([sys.executable, "-m", "venv", "--clear", str(venv)])
        if ok:
            _run([str(py), "-m", "pip", "install", "-q", "--upgrade", "pip"])
            ok, why = _run([str(py), "-m", "pip", "install", "-q", *PY_PINS])
        if not ok:
            for name in ("whatstk-auto", "whatstk-hformat", "chat-miner"):
                env.skipped[name] = f"pip install failed: {why}"
            return
    has = {mod: _run([str(py), "-c", f"import {mod}"])[0] for mod in ("whatstk", "chatminer")}
    if has["whatstk"]:
        env.peers.append(
            Peer("whatstk-auto", "whatstk, header auto-detected", (str(py), driver, "whatstk-auto"))
        )
        hformat = HFORMATS[dialect]
        env.peers.append(
            Peer(
                "whatstk-hformat",
                f"whatstk, hformat={hformat!r}",
                (str(py), driver, "whatstk-hformat", "{file}", hformat),
            )
        )
    else:
        env.skipped["whatstk-auto"] = env.skipped["whatstk-hformat"] = "whatstk does not import"
    if has["chatminer"]:
        env.peers.append(
            Peer("chat-miner", "chat-miner WhatsAppParser", (str(py), driver, "chat-miner"))
        )
    else:
        env.skipped["chat-miner"] = "chatminer does not import"


def _js_peer(env: PeerEnv) -> None:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None:
        env.skipped["js-parser"] = "node is not installed"
        return
    prefix = PEERS_DIR / "node"
    pkg = prefix / "node_modules" / "whatsapp-chat-parser" / "package.json"
    want = JS_PIN.rsplit("@", 1)[1]
    have = json.loads(pkg.read_text())["version"] if pkg.exists() else None
    if have != want:
        if npm is None:
            env.skipped["js-parser"] = "npm is not installed"
            return
        prefix.mkdir(parents=True, exist_ok=True)
        manifest = prefix / "package.json"
        if not manifest.exists():
            manifest.write_text('{"name": "imarchive-bench-peers", "private": true}\n')
        env.log.append(f"npm install {JS_PIN} into {prefix}")
        ok, why = _run([npm, "install", "--no-audit", "--no-fund", JS_PIN], cwd=prefix)
        if not ok:
            env.skipped["js-parser"] = f"npm install failed: {why}"
            return
    env.peers.append(
        Peer(
            "js-parser",
            f"npm {JS_PIN} parseString under Node",
            (node, str(HERE / "peers" / "js_peer.mjs"), str(prefix)),
        )
    )


def ensure(dialect: str = "android") -> PeerEnv:
    """Install what is missing and return the peers that can run."""
    env = PeerEnv()
    PEERS_DIR.mkdir(parents=True, exist_ok=True)
    _python_peers(env, dialect)
    _js_peer(env)
    return env


def command(peer: Peer, file: Path) -> list[str]:
    """The peer's argv for one input file."""
    if "{file}" in peer.argv:
        return [str(file) if a == "{file}" else a for a in peer.argv]
    return [*peer.argv, str(file)]
