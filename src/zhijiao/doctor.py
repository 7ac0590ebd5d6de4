"""``zhijiao doctor``: is this machine ready to run the product? A checklist in Chinese and English.

Checks what a fresh machine gets wrong: the shipped fonts (documents and browser need no system
CJK font, but the package must be complete), a test document whose PDF embeds the CJK font, the
database at the latest migration, and the field-encryption key file. Each check says what to do.
"""

from __future__ import annotations

import logging
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from zhijiao.config import get_settings
from zhijiao.core import assets

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    name_chinese: str
    name_english: str
    ok: bool
    detail: str

    def line(self) -> str:
        mark = "[通过 OK  ]" if self.ok else "[失败 FAIL]"
        return f"{mark} {self.name_chinese} ({self.name_english}): {self.detail}"


SAMPLE_CONTEXT = {
    "bureau_name": "淄博市临淄区司法局", "seq": 1, "doc_date": date(2026, 1, 5), "subject_name": "张建国",
    "gender": "male", "id_number": "370305199001011234", "correction_type": "probation", "crime": "危险驾驶罪",
    "sentence": "拘役三个月，缓刑六个月", "deciding_organ": "淄博市临淄区人民法院", "judgment_date": "2025-06-20",
    "correction_start": date(2025, 7, 1), "correction_end": date(2025, 12, 31),
}

_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
_BASE_FONT = re.compile(rb"/BaseFont\s*/([A-Z]{6}\+[^\s/<>\[\]()]+)")


def pdf_font_objects(pdf: bytes) -> tuple[set[str], bool]:
    """The subset fonts named in a PDF and whether a TrueType font program is embedded.

    A small reader for WeasyPrint's output: the font dictionaries may sit in compressed object
    streams, so every Flate stream is inflated and searched too.
    """
    chunks = [pdf]
    for match in _STREAM.finditer(pdf):
        try:
            chunks.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    names = {m.decode("latin-1") for chunk in chunks for m in _BASE_FONT.findall(chunk)}
    embedded = any(b"/FontFile2" in chunk or b"/FontFile3" in chunk for chunk in chunks)
    return names, embedded


def check_fonts() -> Check:
    missing = assets.missing_font_files()
    if missing:
        return Check("内置中文字体", "shipped CJK fonts", False,
                     f"缺少 {', '.join(missing)}；请重新安装软件包，或运行 python tools/vendor_fonts.py "
                     "(missing files: reinstall the package)")
    size = sum(p.stat().st_size for p in assets.FONT_DIR.rglob("*") if p.is_file()) / 1e6
    return Check("内置中文字体", "shipped CJK fonts", True, f"{assets.FONT_DIR} ({size:.1f} MB)")


def check_pdf() -> Check:
    from zhijiao.documents.render import render_pdf

    try:
        pdf = render_pdf("release_certificate", SAMPLE_CONTEXT)
    except Exception as exc:  # noqa: BLE001 - the checklist reports any failure
        return Check("文书PDF生成", "PDF rendering", False, f"生成测试文书失败 (render failed): {exc}")
    names, embedded = pdf_font_objects(pdf)
    ours = sorted(n for n in names if assets.PDF_FONT_NAME in n)
    if not ours or not embedded:
        return Check("文书PDF生成", "PDF rendering", False,
                     f"测试文书未嵌入内置中文字体 (CJK font not embedded); fonts: {sorted(names) or '无'}")
    return Check("文书PDF生成", "PDF rendering", True,
                 f"测试文书 {len(pdf) // 1024} KB，已嵌入 {', '.join(ours)} (embedded subset)")


def check_database() -> Check:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from zhijiao.db import migrate
    from zhijiao.db import session as db

    try:
        heads = set(ScriptDirectory.from_config(migrate.alembic_config()).get_heads())
        with db.get_engine().connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    except Exception as exc:  # noqa: BLE001
        return Check("数据库", "database", False, f"无法连接数据库 (cannot connect): {exc}")
    url = db.get_engine().url.render_as_string(hide_password=True)
    if current != heads:
        return Check("数据库", "database", False,
                     f"{url} 未迁移到最新版本 (not migrated): 当前 {sorted(current) or '空'}，最新 {sorted(heads)}；"
                     "请运行 zhijiao db upgrade")
    return Check("数据库", "database", True, f"{url} 已是最新版本 {', '.join(sorted(heads))}")


def check_key_file() -> Check:
    from zhijiao.security.crypto import KeyRing

    path = Path(get_settings().key_file)  # type: ignore[arg-type]
    if not path.is_file():
        return Check("加密密钥文件", "key file", False, f"{path} 不存在 (missing)；请运行 zhijiao keys init")
    try:
        KeyRing.load(path)
    except Exception as exc:  # noqa: BLE001
        return Check("加密密钥文件", "key file", False, f"{path} 无法读取 (unreadable): {exc}")
    return Check("加密密钥文件", "key file", True, str(path))


def check_file_modes() -> Check:
    from zhijiao.security import filemodes

    root = get_settings().data_dir
    loose = filemodes.loose_paths(root)
    if loose:
        return Check("数据目录权限", "data directory modes", False,
                     f"{len(loose)} 个文件或目录他人可读 (group/other access): "
                     f"{', '.join(str(p) for p in loose[:5])}；启动服务时会自动改为 0600/0700，"
                     f"或运行 chmod -R go-rwx {root}")
    return Check("数据目录权限", "data directory modes", True, f"{root} 仅本账户可访问 (0600/0700)")


CHECKS: tuple[Callable[[], Check], ...] = (check_fonts, check_pdf, check_database, check_key_file,
                                           check_file_modes)


def run_checks() -> list[Check]:
    return [check() for check in CHECKS]


def report(checks: list[Check]) -> str:
    failed = sum(not c.ok for c in checks)
    summary = ("全部检查通过 (all checks passed)" if not failed
               else f"{failed} 项检查未通过 ({failed} check(s) failed)")
    return "\n".join(["智矫 运行环境检查 (zhijiao doctor)", *(c.line() for c in checks), summary])


def warn_if_fonts_missing() -> list[str]:
    """At start-up: log a warning naming the missing font files (documents would print boxes)."""
    missing = assets.missing_font_files()
    if missing:
        log.warning("内置中文字体缺失，文书与页面将无法正常显示中文 (shipped CJK fonts missing: %s); "
                    "run `zhijiao doctor`", ", ".join(missing))
    return missing
