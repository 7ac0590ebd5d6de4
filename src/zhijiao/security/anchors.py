"""Anchors of the audit chain outside the database (detects deletion of the newest rows).

The chain (security.audit) shows any altered, inserted or removed row *inside* it, but someone
who can write to the database could delete the newest rows and move the head back. So the head
(its sequence number, row id and MAC) is written, now and then, to an append-only file under the
data directory (``audit-anchors.log``, mode 0600, or ``ZHIJIAO_AUDIT_ANCHOR_FILE``: point it at a
WORM mount or a file that syslog ships away): by the ``audit.anchor`` job every few minutes, at
shutdown, and by ``zhijiao audit anchor``. Each line is signed with the audit HMAC key (in the key
file, not in the database) and carries the previous line's signature, so lines cannot be forged,
edited or removed from the middle. :func:`verify` compares the chain with every anchor.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zhijiao.config import get_settings
from zhijiao.core import clock
from zhijiao.security.crypto import get_keyring
from zhijiao.security.models import AuditEvent, AuditHead

FILE_NAME = "audit-anchors.log"


def anchor_path() -> Path:
    settings = get_settings()
    return Path(settings.audit_anchor_file or Path(settings.data_dir, FILE_NAME))


@dataclass(frozen=True)
class Anchor:
    line: int
    at: str
    seq: int
    row_id: int | None
    mac: str
    genesis: str | None  # MAC of the chain's first row: tells this database's chain from another's
    prev: str
    sig: str


def _signed(payload: dict) -> str:
    data = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return get_keyring().audit_mac(b"zhijiao-audit-anchor:" + data)


def _parse(number: int, text: str) -> Anchor | None:
    try:
        raw = json.loads(text)
        return Anchor(number, str(raw["at"]), int(raw["seq"]), raw.get("id"), str(raw["mac"]),
                      raw.get("genesis"), str(raw.get("prev", "")), str(raw["sig"]))
    except (ValueError, KeyError, TypeError):
        return None


def _payload(anchor: Anchor) -> dict:
    return {"at": anchor.at, "seq": anchor.seq, "id": anchor.row_id, "mac": anchor.mac,
            "genesis": anchor.genesis, "prev": anchor.prev}


def read(path: Path | None = None) -> tuple[list[Anchor], list[str]]:
    """The anchors in the file, and a Chinese line for each one that is malformed or wrongly signed."""
    path = path or anchor_path()
    anchors: list[Anchor] = []
    problems: list[str] = []
    if not path.exists():
        return anchors, problems
    prev = ""
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        anchor = _parse(number, text)
        if anchor is None:
            problems.append(f"锚点文件第 {number} 行格式错误（被改动）")
            continue
        if _signed(_payload(anchor)) != anchor.sig:
            problems.append(f"锚点文件第 {number} 行签名不符（锚点被伪造或改动）")
            continue
        if anchor.prev != prev:
            problems.append(f"锚点文件第 {number} 行之前的锚点被删除或顺序被改动")
        prev = anchor.sig
        anchors.append(anchor)
    return anchors, problems


def _last(path: Path) -> Anchor | None:
    """The file's last anchor, read from its tail (the file grows by a line every few minutes)."""
    if not path.exists():
        return None
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - 8192))
        lines = [line for line in fh.read().decode("utf-8", errors="replace").splitlines() if line.strip()]
    anchor = _parse(0, lines[-1]) if lines else None
    return anchor if anchor is not None and _signed(_payload(anchor)) == anchor.sig else None


def write(session: Session, *, force: bool = False) -> Anchor | None:
    """Append the chain head to the anchor file (nothing when it has not moved since the last one)."""
    head = session.execute(select(AuditHead.seq, AuditHead.mac).where(AuditHead.id == 1)).first()
    if head is None or not head.seq:
        return None
    path = anchor_path()
    last = _last(path)
    if last is not None and last.seq == head.seq and last.mac == head.mac and not force:
        return None
    row_id = session.execute(select(AuditEvent.id).where(AuditEvent.seq == head.seq)).scalar_one_or_none()
    genesis = _genesis(session) or (last.genesis if last else None)
    payload = {"at": clock.now().isoformat(), "seq": int(head.seq), "id": row_id, "mac": head.mac,
               "genesis": genesis, "prev": last.sig if last else ""}
    sig = _signed(payload)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (json.dumps({**payload, "sig": sig}, ensure_ascii=False) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return Anchor(0, payload["at"], payload["seq"], row_id, head.mac, genesis, payload["prev"], sig)


def _genesis(session: Session) -> str | None:
    return session.execute(select(AuditEvent.mac).where(AuditEvent.seq == 1)).scalar_one_or_none()


def verify(session: Session) -> list[str]:
    """Chinese lines for every anchor the chain no longer matches (truncation, rewritten tail)."""
    anchors, problems = read()
    if not anchors:
        return problems
    head = session.execute(select(AuditHead.seq).where(AuditHead.id == 1)).scalar_one_or_none() or 0
    oldest = session.execute(select(func.min(AuditEvent.seq))).scalar()
    genesis = _genesis(session)
    wanted = sorted({a.seq for a in anchors if a.seq <= head and (oldest is None or a.seq >= oldest)})
    macs: dict[int, str] = {}
    for i in range(0, len(wanted), 1000):
        macs.update(session.execute(select(AuditEvent.seq, AuditEvent.mac)
                                    .where(AuditEvent.seq.in_(wanted[i:i + 1000]))).tuples().all())
    ours = [a for a in anchors if genesis is None or a.genesis is None or a.genesis == genesis]
    # (an anchor of another chain: a re-created database or a test run, not this one's)
    beyond = [a for a in ours if a.seq > head]
    if beyond:
        newest = max(beyond, key=lambda a: a.seq)
        problems.append(f"审计链末尾被删除：{newest.at} 的锚点记录链头为第 {newest.seq} 条，当前链头只到第 {head} 条"
                        f"（{len(beyond)} 个锚点超出链头）")
    for anchor in ours:
        if anchor.seq > head:
            continue
        if oldest is not None and anchor.seq < oldest:
            continue  # purged after the retention period (zhijiao audit purge)
        mac = macs.get(anchor.seq)
        if mac is None:
            problems.append(f"第 {anchor.seq} 条审计记录缺失（{anchor.at} 的锚点记录过它）")
        elif mac != anchor.mac:
            problems.append(f"第 {anchor.seq} 条审计记录与 {anchor.at} 的锚点不符（记录被删除后重写）")
    return list(dict.fromkeys(problems))
