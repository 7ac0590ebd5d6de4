"""Deployment settings, read from ``ZHIJIAO_*`` environment variables.

A bureau's rule values (thresholds of the law marked configurable) live in the database
settings table instead, so that changing them is audited.
"""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEMO_SECRET = "zhijiao-demo-secret-change-me"


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
    scheduler_enabled: bool = True  # deadline scans and timers (zhijiao.jobs); leased, so every process may run it
    mqtt_url: str | None = None  # e.g. mqtt://127.0.0.1:1883
    event_stream: str = "memory"  # or nats://127.0.0.1:4222

    # Second factor: "all" staff (GB/T 22239 双因素), or "admins" (三员 only; the demo uses it).
    totp_required: str | None = None  # default: "all", or "admins" in demo mode
    # Field-level encryption key file (SM4 keys); created in demo mode when absent.
    key_file: Path | None = None
    max_upload_bytes: int = 5 * 1024 * 1024  # one image or document
    max_request_bytes: int = 32 * 1024 * 1024  # a whole request (a burst of frames)
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
