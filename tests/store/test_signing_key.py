"""The key that signs browser sessions lives in the data directory (or OAFLOW_SECRET_KEY), never in the
database a backup copies; a key an older release left in the database moves to the file once."""

from __future__ import annotations

import stat
import threading

import pytest
from sqlalchemy import delete, insert, select

from engine.core import Core
from engine.store.tables import setting


def stored_key(core) -> str | None:
    with core.db.read() as conn:
        return conn.execute(select(setting.c.value).where(setting.c.key == "secret_key")).scalar()


def key_file(core, tmp_path):
    """In the data directory `oaflow backup` archives, wherever the database is."""
    return tmp_path / "data" / "secret.key"


@pytest.fixture
def fresh(db_url, tmp_path, monkeypatch):
    """A Core whose data directory (OAFLOW_DATA_DIR) is empty."""
    monkeypatch.delenv("OAFLOW_SECRET_KEY", raising=False)
    monkeypatch.setenv("OAFLOW_DATA_DIR", str(tmp_path / "data"))
    core = Core(url=db_url)
    with core.db.write() as conn:
        conn.execute(delete(setting).where(setting.c.key == "secret_key"))
    yield core
    core.db.dispose()


def test_the_key_is_made_once_in_a_private_file_not_in_the_database(fresh, tmp_path):
    key = fresh.secret_key()

    path = key_file(fresh, tmp_path)
    assert path.read_text().strip() == key and len(key) >= 43
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stored_key(fresh) is None
    assert fresh.secret_key() == key


def test_processes_on_one_host_share_the_file(fresh, db_url):
    others = [Core(url=db_url) for _ in range(4)]
    keys = []
    threads = [threading.Thread(target=lambda c=c: keys.append(c.secret_key())) for c in others]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    keys.append(fresh.secret_key())
    for other in others:
        other.db.dispose()

    assert len(set(keys)) == 1


def test_a_key_left_in_the_database_moves_to_the_file(fresh, tmp_path):
    with fresh.db.write() as conn:
        conn.execute(insert(setting).values(key="secret_key", value="the-key-of-an-older-release"))

    assert fresh.secret_key() == "the-key-of-an-older-release"  # sessions signed with it keep working
    assert key_file(fresh, tmp_path).read_text().strip() == "the-key-of-an-older-release"
    assert stored_key(fresh) is None


def test_the_environment_wins_and_the_database_keeps_no_copy(fresh, tmp_path, monkeypatch):
    with fresh.db.write() as conn:
        conn.execute(insert(setting).values(key="secret_key", value="old"))
    monkeypatch.setenv("OAFLOW_SECRET_KEY", "from-the-environment")

    assert fresh.secret_key() == "from-the-environment"
    assert stored_key(fresh) is None
    assert not key_file(fresh, tmp_path).exists()


def test_an_empty_key_file_is_refused(fresh, tmp_path):
    path = key_file(fresh, tmp_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("")
    with pytest.raises(RuntimeError, match="签名密钥文件"):
        fresh.secret_key()
