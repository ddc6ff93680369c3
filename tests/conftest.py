"""Shared fixtures: a fresh demo database per test, on SQLite and (when one answers) PostgreSQL.

The demo organisation, the working-day calendar and the process library are built once per session
into a template (a SQLite file, a PostgreSQL template database) and copied for each test, so every
test starts from the same known state in milliseconds.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select
from support import LEAVE, ApiClient, LeaveFlow, Ops, leave_range
from werkzeug.serving import make_server

from engine.core import Core
from engine.org import demo, users
from engine.process import definitions, library
from engine.store import schema
from engine.store.database import Database
from engine.store.tables import definition, event_log, instance, notification, work_item
from engine.time import working_days
from webapp import create_app

try:  # optional: the PostgreSQL tests skip without it
    import psycopg
except ImportError:  # pragma: no cover
    psycopg = None
try:  # optional: the browser tests skip without it
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover
    sync_playwright = None

# Caches and snapshots check their answers against the database (engine.work.kernel.case.self_check).
os.environ.setdefault("OAFLOW_SELF_CHECK", "1")
# The cookie signing key: given, so no test writes secret.key into the working directory's ./oaflow-data
# (tests/store/test_signing_key.py removes it to test the file).
os.environ.setdefault("OAFLOW_SECRET_KEY", "oaflow-tests-" + uuid.uuid4().hex)

# Uploaded files: never into the working directory's ./oaflow-data (the `core` fixture gives each test its own).
os.environ.setdefault("OAFLOW_FILES_DIR", tempfile.mkdtemp(prefix="oaflow-test-files-"))

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


def _pg_admin_url() -> str | None:
    """The PostgreSQL server to test against, or None when none answers (the tests then skip)."""
    url = os.environ.get("OAFLOW_TEST_PG_URL", DEFAULT_PG)
    if url.lower() in {"", "0", "off", "none"}:
        return None
    if psycopg is None:
        return None
    try:
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=2):
            return url
    except Exception:
        return None


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def _seed(url: str) -> None:
    db = Database(url)
    schema.upgrade(db)
    with db.write() as conn:
        working_days.seed_from_chinesecalendar(conn)
        demo.seed(conn)
        definitions.deploy(conn, library.library_files(), None)
    db.dispose()


class _PgServer:
    def __init__(self, admin_url: str):
        self.psycopg = psycopg
        self.admin_url = admin_url.replace("postgresql+psycopg://", "postgresql://")
        self.prefix = f"oaflow_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.template = f"{self.prefix}_tpl"
        self.created: list[str] = []
        self._execute(f'CREATE DATABASE "{self.template}"')
        self.created.append(self.template)
        _seed(_with_database(self.admin_url, self.template))

    def _execute(self, sql: str) -> None:
        with self.psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql)

    def fresh(self) -> str:
        name = f"{self.prefix}_{len(self.created)}"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self.created.append(name)
        return _with_database(self.admin_url, name)

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        for name in reversed(self.created):
            try:
                self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except Exception:
                pass


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    _seed(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_server():
    url = _pg_admin_url()
    if url is None and os.environ.get("OAFLOW_REQUIRE_PG"):
        pytest.fail("OAFLOW_REQUIRE_PG is set but PostgreSQL does not answer at OAFLOW_TEST_PG_URL")
    if url is None:
        pytest.skip("PostgreSQL is not reachable (set OAFLOW_TEST_PG_URL); PostgreSQL tests skipped")
    server = _PgServer(url)
    yield server
    server.close()


def pytest_generate_tests(metafunc):
    # Every test that touches the database runs once on SQLite and once on PostgreSQL.
    # Browser tests exercise the pages, not the database: SQLite only.
    if "db_url" in metafunc.fixturenames:
        backends = ["sqlite"]
        if metafunc.definition.get_closest_marker("browser") is None:
            backends.append(pytest.param("postgres", marks=pytest.mark.postgres))
        metafunc.parametrize("backend", backends, indirect=True)


@pytest.fixture
def backend(request):
    return request.param


@pytest.fixture
def db_url(request, backend, tmp_path, sqlite_template):
    if backend == "postgres":
        server = request.getfixturevalue("pg_server")
        url = server.fresh()
        yield url
        server.drop(url)
    else:
        path = tmp_path / "oaflow.sqlite3"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"


@pytest.fixture
def core(db_url, tmp_path) -> Core:
    instance = Core(url=db_url, files_dir=tmp_path / "files")
    yield instance
    instance.db.dispose()


@pytest.fixture
def app(core):
    application = create_app(core, {"TESTING": True})
    return application


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def api(client):
    """api("zhangsan").post("/api/v1/instances", json=...)"""
    cache: dict[str, ApiClient] = {}

    def for_user(username: str) -> ApiClient:
        if username not in cache:
            cache[username] = ApiClient(client, username)
        return cache[username]

    return for_user


@pytest.fixture
def leave_data():
    """A 请假 form; `days=N` stands for the dates of an N-working-day leave (天数 is computed from them)."""

    def make(**overrides):
        if "days" in overrides:
            overrides = {**leave_range(overrides.pop("days")), **overrides}
        return {**LEAVE, **overrides}

    return make


# --- helpers shared by the flow, API, security and concurrency tests ----------------------------


@pytest.fixture
def leave(api, leave_data) -> LeaveFlow:
    return LeaveFlow(api, leave_data)


@pytest.fixture
def ops(api, core, leave) -> Ops:
    return Ops(api, core, leave)


@pytest.fixture
def row_counts(core):
    """row_counts() → {"instance": n, "work_item": n, "event": n, "notification": n, "definition": n}"""
    tables = (instance, work_item, event_log, notification, definition)

    def count() -> dict[str, int]:
        with core.db.read() as conn:
            return {t.name: conn.execute(select(func.count()).select_from(t)).scalar() for t in tables}

    return count


@pytest.fixture(autouse=True, scope="session")
def _remember_password_checks():
    """Every test logs its users in afresh and scrypt costs ~80 ms per check. The demo accounts carry the
    same hashes in every copy of the template, so remember each (hash, password) verdict for the session:
    the answers are unchanged (a wrong password is still checked, and still refused)."""
    original = users.check_password_hash
    verdicts: dict[tuple[str, str], bool] = {}

    def check(pwhash: str, password: str) -> bool:
        key = (pwhash, password)
        if key not in verdicts:
            verdicts[key] = original(pwhash, password)
        return verdicts[key]

    users.check_password_hash = check
    yield
    users.check_password_hash = original


# --- the browser tests: Debian's chromium driven by Playwright, against a live server ------------------

CHROMIUM = os.environ.get("OAFLOW_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _browser_missing(reason: str):
    if os.environ.get("OAFLOW_REQUIRE_BROWSER"):
        pytest.fail(f"OAFLOW_REQUIRE_BROWSER is set but {reason}")
    pytest.skip(reason)


@pytest.fixture
def browser():
    if sync_playwright is None:
        _browser_missing("playwright is not installed (pip install -e '.[test]')")
    if not os.path.exists(CHROMIUM):
        _browser_missing("Debian's chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def live_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def empty_url(backend, tmp_path, request):
    """A database with no tables yet, for the schema revisions' tests."""
    if backend == "postgres":
        server = request.getfixturevalue("pg_server")
        name = f"{server.prefix}_mig"
        server._execute(f'CREATE DATABASE "{name}"')
        url = server.admin_url.rsplit("/", 1)[0] + "/" + name
        yield url
        server.drop(url)
    else:
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"
