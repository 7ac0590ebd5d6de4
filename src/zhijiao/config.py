"""Deployment settings, read from ``ZHIJIAO_*`` environment variables.

A bureau's rule values (thresholds of the law marked configurable) live in the database
settings table instead, so that changing them is audited.
"""

from __future__ import annotations

import functools
import importlib
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from zhijiao.core.errors import DomainError

DEMO_SECRET = "zhijiao-demo-secret-change-me"

# The optional parts (``pip install 'zhijiao[postgres,nats,mqtt,face]'``): a one-box SQLite district
# needs none of them. Each extra: the module it installs, and what to tell whoever configured it.
EXTRAS: dict[str, tuple[str, str]] = {
    "postgres": ("psycopg", "已配置 PostgreSQL 数据库（ZHIJIAO_DATABASE_URL），但未安装其驱动组件；"
                            "请安装：pip install 'zhijiao[postgres]'"),
    "nats": ("nats", "已配置 NATS 事件流（ZHIJIAO_EVENT_STREAM），但未安装其客户端组件；"
                     "请安装：pip install 'zhijiao[nats]'"),
    "mqtt": ("aiomqtt", "已配置 MQTT 定位接入（ZHIJIAO_MQTT_URL），但未安装其客户端组件；"
                        "请安装：pip install 'zhijiao[mqtt]'"),
    "face": ("dlib", "人脸识别组件未安装，暂时无法进行人脸采集和刷脸签到，请联系系统管理员"
                     "（安装：pip install 'zhijiao[face]'）"),
}


class MissingExtra(DomainError):
    """A configured feature whose optional extra is not installed (503, code ``<extra>_not_installed``)."""

    status = 503

    def __init__(self, extra: str) -> None:
        super().__init__(EXTRAS[extra][1], code=f"{extra}_not_installed")
        self.extra = extra


def require_extra(extra: str) -> None:
    """Raise :class:`MissingExtra` unless the extra's module imports."""
    try:
        importlib.import_module(EXTRAS[extra][0])
    except ImportError as exc:
        raise MissingExtra(extra) from exc


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZHIJIAO_", env_file=None, extra="ignore")

    data_dir: Path = Path("./var")
    database_url: str | None = None
    secret_key: str = ""
    demo_mode: bool = False

    host: str = "127.0.0.1"
    port: int = 8080
    jt808_port: int = 6808
    jt808_host: str = "127.0.0.1"  # 0.0.0.0 to accept terminals from the network
    jt808_enabled: bool = True
    # A fix dated more than this ahead of the server's clock is refused (a wrong device clock or a
    # forged report must not become the subject's "current" position). Issue 20 item 9.
    future_fix_tolerance_s: int = 300
    # Origins (scheme://host[:port]) whose pages may open the UI's socket.io connection; empty:
    # only the origin the request was made to (behind a proxy: list the public URL here).
    allowed_origins: list[str] = []
    # JT/T 808: failed auth attempts one connection may make before it is closed; each failure is
    # answered after a growing pause (0.5 s, 1 s, 2 s … at most 8 s).
    jt808_max_auth_failures: int = 5
    scheduler_enabled: bool = True  # deadline scans and timers (zhijiao.jobs); leased, so every process may run it
    mqtt_url: str | None = None  # e.g. mqtt://127.0.0.1:1883
    event_stream: str = "memory"  # or nats://127.0.0.1:4222

    # Second factor: "all" staff (GB/T 22239 双因素), or "admins" (三员 only; the demo uses it).
    totp_required: str | None = None  # default: "all", or "admins" in demo mode
    # Field-level encryption key file (SM4 keys); created in demo mode when absent.
    key_file: Path | None = None
    # Append-only file of signed audit chain heads (default <data_dir>/audit-anchors.log).
    audit_anchor_file: Path | None = None
    max_upload_bytes: int = 5 * 1024 * 1024  # one image or document
    max_request_bytes: int = 32 * 1024 * 1024  # a whole request (a burst of frames)
    # Reverse proxies whose X-Forwarded-For is believed (comma-separated addresses or CIDR networks,
    # e.g. "127.0.0.1,10.1.0.0/24"); empty: the connection's own address is the client's.
    trusted_proxies: str = ""
    hsts: bool = False  # set when served over HTTPS (directly or behind a TLS terminator)
    tls_certfile: Path | None = None
    tls_keyfile: Path | None = None

    bureau_name: str = Field(default="淄博市临淄区司法局")

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        if self.database_url is None:
            self.database_url = f"sqlite:///{(self.data_dir / 'zhijiao.db').as_posix()}"
        if self.totp_required is None:
            self.totp_required = "admins" if self.demo_mode else "all"
        if self.key_file is None:
            self.key_file = self.data_dir / "keys.json"
        return self

    @property
    def is_sqlite(self) -> bool:
        return str(self.database_url).startswith("sqlite")

    def configured_extras(self) -> list[str]:
        """The optional extras that the configured features need."""
        extras = []
        if make_url(str(self.database_url)).drivername in ("postgresql", "postgresql+psycopg"):
            extras.append("postgres")
        if str(self.event_stream).startswith(("nats://", "tls://")):
            extras.append("nats")
        if self.mqtt_url:
            extras.append("mqtt")
        return extras

    def check_extras(self) -> None:
        """Refuse to start a configured feature whose extra is missing (:class:`MissingExtra`)."""
        for extra in self.configured_extras():
            require_extra(extra)

    def effective_secret(self) -> str:
        """The secret key; outside demo mode a missing or default key is refused."""
        if self.secret_key and self.secret_key != DEMO_SECRET:
            return self.secret_key
        if self.demo_mode:
            return self.secret_key or DEMO_SECRET
        raise RuntimeError(
            "ZHIJIAO_SECRET_KEY 未设置或仍为默认值：生产环境拒绝启动。"
            " Set ZHIJIAO_SECRET_KEY to a long random value (or ZHIJIAO_DEMO_MODE=true for a demo)."
        )


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    get_settings.cache_clear()
