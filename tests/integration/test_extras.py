"""The optional extras (postgres, nats, mqtt, face): a base install runs a SQLite district, and a
configured feature whose extra is missing is refused with a Chinese message and a stable code.

The missing extras are simulated in a subprocess by an import hook that makes their modules
raise ImportError, as on a machine where they were never installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import factories as f

# The top-level modules that the four extras install.
BLOCKED = ("psycopg", "psycopg_binary", "nats", "aiomqtt", "paho", "dlib", "_dlib_pybind11",
           "face_recognition_models")

BLOCKER = textwrap.dedent(f"""
    import importlib.abc
    import sys

    BLOCKED = {BLOCKED!r}


    class NotInstalled(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
            return None


    sys.meta_path.insert(0, NotInstalled())
    for loaded in [m for m in sys.modules if m.partition(".")[0] in BLOCKED]:
        del sys.modules[loaded]
""")

# The command line, run as `python -m zhijiao`, with the extras missing.
CLI = BLOCKER + textwrap.dedent("""
    import runpy

    sys.argv = ["zhijiao", *sys.argv[1:]]
    runpy.run_module("zhijiao", run_name="__main__", alter_sys=True)
""")

# The web app on SQLite, with the extras missing: it builds, starts and answers; the face
# engine and the modules of the configured-only features refuse with MissingExtra.
APP = BLOCKER + textwrap.dedent("""
    import importlib
    import json

    from fastapi.testclient import TestClient

    import zhijiao.cli
    import zhijiao.main
    from zhijiao.checkins import face
    from zhijiao.config import MissingExtra
    from zhijiao.db import migrate
    from zhijiao.db.session import make_engine

    migrate.upgrade()
    app = zhijiao.main.create_app(with_ui=True)
    with TestClient(app) as client:
        health = client.get("/api/v1/health").status_code
        openapi = client.get("/openapi.json").status_code
    refused = {}
    for name, attempt in [
        ("face", face.get_engine),
        ("postgres", lambda: make_engine("postgresql+psycopg://zhijiao@127.0.0.1:5432/zhijiao")),
        ("nats", lambda: importlib.import_module("zhijiao.ingestion.nats")),
        ("mqtt", lambda: importlib.import_module("zhijiao.ingestion.mqtt")),
    ]:
        try:
            attempt()
        except MissingExtra as exc:
            refused[name] = {"status": exc.status, "code": exc.code, "message": exc.message}
    leaked = sorted(m for m in sys.modules if m.partition(".")[0] in BLOCKED)
    print(json.dumps({"health": health, "openapi": openapi, "refused": refused, "leaked": leaked}))
""")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHIJIAO_")}
    env.update(ZHIJIAO_DATA_DIR=str(tmp_path / "data"), ZHIJIAO_DEMO_MODE="true",
               ZHIJIAO_DATABASE_URL=f"sqlite:///{tmp_path / 'zhijiao.db'}", ZHIJIAO_SCHEDULER_ENABLED="false",
               ZHIJIAO_JT808_PORT="0", ZHIJIAO_SECRET_KEY=os.environ["ZHIJIAO_SECRET_KEY"])
    env.update(extra)
    return env


def _cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CLI, *args], capture_output=True, text=True,
                          env=_env(tmp_path, **env), timeout=120)


def test_base_install_builds_and_serves_the_app_on_sqlite(tmp_path):
    r = subprocess.run([sys.executable, "-c", APP], capture_output=True, text=True, env=_env(tmp_path), timeout=300)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["health"] == 200 and out["openapi"] == 200
    assert out["leaked"] == []
    assert out["refused"] == {
        "face": {"status": 503, "code": "face_not_installed",
                 "message": "人脸识别组件未安装，暂时无法进行人脸采集和刷脸签到，请联系系统管理员"
                            "（安装：pip install 'zhijiao[face]'）"},
        "postgres": {"status": 503, "code": "postgres_not_installed",
                     "message": "已配置 PostgreSQL 数据库（ZHIJIAO_DATABASE_URL），但未安装其驱动组件；"
                                "请安装：pip install 'zhijiao[postgres]'"},
        "nats": {"status": 503, "code": "nats_not_installed",
                 "message": "已配置 NATS 事件流（ZHIJIAO_EVENT_STREAM），但未安装其客户端组件；"
                            "请安装：pip install 'zhijiao[nats]'"},
        "mqtt": {"status": 503, "code": "mqtt_not_installed",
                 "message": "已配置 MQTT 定位接入（ZHIJIAO_MQTT_URL），但未安装其客户端组件；"
                            "请安装：pip install 'zhijiao[mqtt]'"},
    }


def test_base_install_command_line(tmp_path):
    help_ = _cli(tmp_path, "--help")
    assert help_.returncode == 0 and "智矫" in help_.stdout, help_.stderr
    upgrade = _cli(tmp_path, "db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr


@pytest.mark.parametrize(("args", "env", "code", "words"), [
    (["db", "upgrade"], {"ZHIJIAO_DATABASE_URL": "postgresql+psycopg://zhijiao@127.0.0.1:5432/zhijiao"},
     "postgres_not_installed", "PostgreSQL"),
    (["serve"], {"ZHIJIAO_DATABASE_URL": "postgresql://zhijiao@127.0.0.1:5432/zhijiao"},
     "postgres_not_installed", "PostgreSQL"),
    (["worker"], {"ZHIJIAO_EVENT_STREAM": "nats://127.0.0.1:4222"}, "nats_not_installed", "NATS 事件流"),
    (["serve"], {"ZHIJIAO_EVENT_STREAM": "nats://127.0.0.1:4222"}, "nats_not_installed", "NATS 事件流"),
    (["gateway"], {"ZHIJIAO_MQTT_URL": "mqtt://127.0.0.1:1883"}, "mqtt_not_installed", "MQTT 定位接入"),
    (["serve"], {"ZHIJIAO_MQTT_URL": "mqtt://127.0.0.1:1883"}, "mqtt_not_installed", "MQTT 定位接入"),
])
def test_configured_feature_without_its_extra_is_refused(tmp_path, args, env, code, words):
    r = _cli(tmp_path, *args, **env)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert f"错误 [{code}]" in r.stderr and words in r.stderr and "Traceback" not in r.stderr


@pytest.fixture
def no_face_engine(monkeypatch):
    from zhijiao.checkins.face import engine

    monkeypatch.setattr(engine, "dlib", None)
    monkeypatch.setattr(engine, "_engine", None)


def test_face_checkin_without_the_face_extra_is_503(client, db, no_face_engine):
    office = f.office(db)
    subject = f.subject(db, office, status="under_correction")
    officer = f.login(client, f.staff(db, "office_officer", office).username)
    kiosk = f.login(client, f.staff(db, "kiosk").username)
    image = [("images", ("0.jpg", b"\xff\xd8not-decoded", "image/jpeg"))]
    enrol = client.post(f"/api/v1/subjects/{subject.id}/face", headers=officer,
                        files={"image": ("a.jpg", b"\xff\xd8", "image/jpeg")})
    checkin = client.post("/api/v1/checkins", headers=kiosk, files=image,
                          data={"source": "kiosk", "id_number": subject.id_number})
    for r in (enrol, checkin):
        assert r.status_code == 503, r.text
        assert r.json()["code"] == "face_not_installed" and "人脸识别组件未安装" in r.json()["message"]
