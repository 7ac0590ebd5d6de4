"""Chinese national cryptography for personal data at rest (GB/T 39786-2021).

- SM4-GCM for field encryption; every value carries the id of its key so keys rotate.
- HMAC-SM3 for blind indexes (equality search without plaintext) and the audit chain.

Keys live in a key file outside the database (``ZHIJIAO_KEY_FILE``, default
``<data_dir>/keys.json``, mode 0600); a deployment may keep that file on an HSM-backed
mount. Layout::

    {"current": "k1", "sm4": {"k1": "<32 hex>"}, "index": "<64 hex>", "audit": "<64 hex>"}
"""

from __future__ import annotations

import functools
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from sqlalchemy import LargeBinary, TypeDecorator

from zhijiao.config import get_settings

_MAGIC = b"Z1"
_NONCE = 12
_TAG = 16


class KeyError_(RuntimeError):
    pass


@dataclass
class KeyRing:
    current: str
    sm4: dict[str, bytes]
    index_key: bytes
    audit_key: bytes
    path: Path | None = field(default=None, compare=False)

    @classmethod
    def generate(cls) -> KeyRing:
        return cls(
            current="k1",
            sm4={"k1": secrets.token_bytes(16)},
            index_key=secrets.token_bytes(32),
            audit_key=secrets.token_bytes(32),
        )

    @classmethod
    def load(cls, path: Path) -> KeyRing:
        data = json.loads(path.read_text())
        return cls(
            current=data["current"],
            sm4={k: bytes.fromhex(v) for k, v in data["sm4"].items()},
            index_key=bytes.fromhex(data["index"]),
            audit_key=bytes.fromhex(data["audit"]),
            path=path,
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        payload = {
            "current": self.current,
            "sm4": {k: v.hex() for k, v in self.sm4.items()},
            "index": self.index_key.hex(),
            "audit": self.audit_key.hex(),
        }
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(payload, fh)
        os.replace(tmp, path)
        self.path = path

    def add_key(self) -> str:
        """Create a new SM4 key and make it current; old keys stay for decryption."""
        n = 1 + max(int(k[1:]) for k in self.sm4 if k[1:].isdigit())
        key_id = f"k{n}"
        self.sm4[key_id] = secrets.token_bytes(16)
        self.current = key_id
        return key_id

    # --- SM4-GCM -------------------------------------------------------------
    def encrypt(self, plaintext: bytes, key_id: str | None = None) -> bytes:
        key_id = key_id or self.current
        nonce = secrets.token_bytes(_NONCE)
        enc = Cipher(algorithms.SM4(self.sm4[key_id]), modes.GCM(nonce)).encryptor()
        kid = key_id.encode()
        enc.authenticate_additional_data(_MAGIC + kid)
        body = enc.update(plaintext) + enc.finalize()
        return _MAGIC + bytes([len(kid)]) + kid + nonce + body + enc.tag

    def key_id_of(self, blob: bytes) -> str:
        if blob[:2] != _MAGIC:
            raise KeyError_("not an encrypted value")
        n = blob[2]
        return blob[3 : 3 + n].decode()

    def decrypt(self, blob: bytes) -> bytes:
        key_id = self.key_id_of(blob)
        kid = key_id.encode()
        rest = blob[3 + len(kid) :]
        nonce, body, tag = rest[:_NONCE], rest[_NONCE:-_TAG], rest[-_TAG:]
        key = self.sm4.get(key_id)
        if key is None:
            raise KeyError_(f"unknown key id {key_id}")
        dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
        dec.authenticate_additional_data(_MAGIC + kid)
        try:
            return dec.update(body) + dec.finalize()
        except InvalidTag as exc:
            raise KeyError_("ciphertext was altered or the key is wrong") from exc

    # --- HMAC-SM3 -------------------------------------------------------------
    def blind_index(self, value: str) -> str:
        return hmac_sm3(self.index_key, value.strip().upper().encode()).hex()

    def audit_mac(self, data: bytes) -> str:
        return hmac_sm3(self.audit_key, data).hex()


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    h = hmac.HMAC(key, hashes.SM3())
    h.update(data)
    return h.finalize()


def sm3_hex(data: bytes) -> str:
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize().hex()


@functools.lru_cache(maxsize=1)
def get_keyring() -> KeyRing:
    settings = get_settings()
    path = Path(settings.key_file)  # type: ignore[arg-type]
    if path.exists():
        return KeyRing.load(path)
    if not settings.demo_mode:
        raise KeyError_(
            f"密钥文件 {path} 不存在。Run `zhijiao keys init` (or set ZHIJIAO_KEY_FILE) before starting."
        )
    ring = KeyRing.generate()
    ring.save(path)
    return ring


def reset_keyring() -> None:
    get_keyring.cache_clear()


class Encrypted(TypeDecorator[str]):
    """A text value stored as SM4-GCM ciphertext (key id inside the value)."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect) -> bytes | None:
        return None if value is None else get_keyring().encrypt(value.encode("utf-8"))

    def process_result_value(self, value: bytes | None, dialect) -> str | None:
        return None if value is None else get_keyring().decrypt(bytes(value)).decode("utf-8")


class EncryptedBytes(TypeDecorator[bytes]):
    """Binary content (face photos, embeddings) stored as SM4-GCM ciphertext."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: bytes | None, dialect) -> bytes | None:
        return None if value is None else get_keyring().encrypt(bytes(value))

    def process_result_value(self, value: bytes | None, dialect) -> bytes | None:
        return None if value is None else get_keyring().decrypt(bytes(value))


SENSITIVE_TYPES = (Encrypted, EncryptedBytes)
