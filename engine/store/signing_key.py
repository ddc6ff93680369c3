"""The key that signs browser cookies: OAFLOW_SECRET_KEY, else the file `secret.key` in the data directory.

Not in the database: every copy of the database (a dump, a replica, a stolen backup) would carry it, and
whoever holds it signs cookies. Older releases kept it in `setting.secret_key`; the first process to start
moves such a key into the file and deletes the row. Processes on one host share the file; processes on
several hosts share the key through OAFLOW_SECRET_KEY. The file is in the data directory that
`oaflow backup` archives (engine.store.backup), so a restored installation keeps its key.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from sqlalchemy import delete, select

from engine.store.database import Database, default_data_dir
from engine.store.tables import setting

FILE_NAME = "secret.key"
ENVIRONMENT = "OAFLOW_SECRET_KEY"
_OLD_SETTING = "secret_key"


def load(db: Database, directory: Path | None = None) -> str:
    """The signing key, made on first start; a key found only in the database moves to the file."""
    path = (directory or default_data_dir()) / FILE_NAME
    with db.read() as conn:
        stored = conn.execute(select(setting.c.value).where(setting.c.key == _OLD_SETTING)).scalar()
    configured = os.environ.get(ENVIRONMENT)
    if configured:
        key = configured
    elif path.exists():
        key = _read(path)
    else:
        key = _create(path, stored or secrets.token_urlsafe(48))
    if stored is not None:  # only once the key is safe elsewhere
        with db.write() as conn:
            conn.execute(delete(setting).where(setting.c.key == _OLD_SETTING))
    return key


def _read(path: Path) -> str:
    try:
        key = path.read_text(encoding="utf-8").strip()
    except UnicodeDecodeError:
        key = ""
    if not key:
        raise RuntimeError(
            f"签名密钥文件 {path} 是空的或不是文本：请写回原来的密钥，或删除该文件以生成新密钥（所有人需要重新登录）"
        )
    return key


def _create(path: Path, key: str) -> str:
    """Write the key where no other process can read it, and publish it whole or not at all: written to a
    private temporary file first, then linked into place, which fails if another process was first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret.key-")  # mode 0600
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(key + "\n")
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return _read(path)
    finally:
        os.unlink(temporary)
    return key
