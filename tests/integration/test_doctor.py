"""``zhijiao doctor`` against a real database (SQLite and PostgreSQL), and the start-up warning."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from zhijiao import doctor
from zhijiao.core import assets


def _run(database_url: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "ZHIJIAO_DATABASE_URL": database_url, **env}
    return subprocess.run([sys.executable, "-m", "zhijiao.cli", "doctor"], capture_output=True, text=True,
                          env=full_env, timeout=180)


def test_doctor_passes_on_a_ready_machine(engine, database_url: str) -> None:
    from zhijiao.security.crypto import get_keyring

    get_keyring()  # the test data dir has its key file (demo mode creates it)
    r = _run(database_url)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    for name in ("内置中文字体", "文书PDF生成", "数据库", "加密密钥文件"):
        assert f"[通过 OK  ] {name}" in out, out
    assert assets.PDF_FONT_NAME in out  # the embedded subset is named
    assert "全部检查通过" in out and "[失败" not in out


def test_doctor_fails_on_an_unmigrated_database_and_a_missing_key_file(tmp_path: Path) -> None:
    r = _run(f"sqlite:///{tmp_path / 'empty.db'}", ZHIJIAO_KEY_FILE=str(tmp_path / "none" / "keys.json"))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "[失败 FAIL] 数据库 (database)" in r.stdout and "zhijiao db upgrade" in r.stdout
    assert "[失败 FAIL] 加密密钥文件 (key file)" in r.stdout and "zhijiao keys init" in r.stdout
    assert "[通过 OK  ] 内置中文字体" in r.stdout and "[通过 OK  ] 文书PDF生成" in r.stdout
    assert "2 项检查未通过" in r.stdout


def test_doctor_reports_a_database_behind_the_latest_migration(engine, database_url: str) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'an_old_revision'"))
    try:
        check = doctor.check_database()
    finally:
        with engine.begin() as conn:
            from alembic.script import ScriptDirectory

            from zhijiao.db import migrate

            head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
    assert not check.ok and "an_old_revision" in check.detail


def test_missing_fonts_fail_the_checks_and_warn_at_start_up(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(assets, "FONT_DIR", tmp_path / "fonts")
    monkeypatch.setattr(assets, "WEB_FONT_DIR", tmp_path / "fonts" / "web")
    check = doctor.check_fonts()
    assert not check.ok and "NotoSerifSC-Regular.woff" in check.detail
    with caplog.at_level(logging.WARNING, logger="zhijiao.doctor"):
        missing = doctor.warn_if_fonts_missing()
    assert missing and any("内置中文字体缺失" in r.getMessage() for r in caplog.records)


def test_pdf_font_reader_finds_the_embedded_subset() -> None:
    from zhijiao.documents.render import render_pdf

    names, embedded = doctor.pdf_font_objects(render_pdf("release_certificate", doctor.SAMPLE_CONTEXT))
    assert embedded and any(assets.PDF_FONT_NAME in n for n in names), names
    assert doctor.pdf_font_objects(b"%PDF-1.7 no fonts") == (set(), False)
