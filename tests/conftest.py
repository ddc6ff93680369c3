"""Shared fixtures: a fresh demo database per test, on SQLite and (when one answers) PostgreSQL.

The demo organisation, the working-day calendar and the process library are built once per session
into a template (a SQLite file, a PostgreSQL template database) and copied for each test, so every
test starts from the same known state in milliseconds.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest

from engine.core import Core
from engine.org import demo
from engine.process import definitions, library
from engine.store import schema
from engine.store.database import Database
from engine.time import working_days

# Caches and snapshots check their answers against the database (engine.work.kernel.case.self_check).
os.environ.setdefault("OAFLOW_SELF_CHECK", "1")

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
PASSWORD = demo.DEMO_PASSWORD


def _pg_admin_url() -> str | None:
    """The PostgreSQL server to test against, or None when none answers (the tests then skip)."""
    url = os.environ.get("OAFLOW_TEST_PG_URL", DEFAULT_PG)
    if url.lower() in {"", "0", "off", "none"}:
        return None
    try:
        import psycopg

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
        import psycopg

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
def core(db_url) -> Core:
    instance = Core(url=db_url)
    yield instance
    instance.db.dispose()


@pytest.fixture
def app(core):
    from webapp import create_app

    application = create_app(core, {"TESTING": True})
    return application


@pytest.fixture
def client(app):
    return app.test_client()


class ApiClient:
    """A Flask test client that sends one user's bearer token with every call."""

    def __init__(self, client, username: str):
        self.client = client
        response = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.get_json()
        self.headers = {"Authorization": "Bearer " + response.get_json()["token"]}

    def get(self, path, **kwargs):
        return self.client.get(path, headers=self.headers, **kwargs)

    def post(self, path, **kwargs):
        return self.client.post(path, headers=self.headers, **kwargs)


@pytest.fixture
def api(client):
    """api("zhangsan").post("/api/v1/instances", json=...)"""
    cache: dict[str, ApiClient] = {}

    def for_user(username: str) -> ApiClient:
        if username not in cache:
            cache[username] = ApiClient(client, username)
        return cache[username]

    return for_user


LEAVE = {
    "leave_type": "年假",
    "start_date": "2026-11-23",
    "end_date": "2026-11-24",
    "days": 2,
    "reason": "回老家探亲",
}


@pytest.fixture
def leave_data():
    def make(**overrides):
        return {**LEAVE, **overrides}

    return make


# --- helpers shared by the flow, API, security and concurrency tests ----------------------------


class LeaveFlow:
    """Drive the 请假 process through the REST API as the demo users."""

    def __init__(self, api, leave_data):
        self.api = api
        self.leave_data = leave_data

    def start(self, user: str = "zhangsan", *, priority: str | None = None, **overrides) -> dict:
        body = {"process": "leave", "data": self.leave_data(**overrides)}
        if priority is not None:
            body["priority"] = priority
        response = self.api(user).post("/api/v1/instances", json=body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def detail(self, instance_id: int, user: str = "admin") -> dict:
        response = self.api(user).get(f"/api/v1/instances/{instance_id}")
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def open_items(self, instance_id: int) -> list[dict]:
        """The instance's open approval items (not 知会 copies), in creation order."""
        return [w for w in self.detail(instance_id)["work_items"] if w["kind"] == "approve" and w["status"] == "open"]

    def my_item(self, user: str, instance_id: int) -> dict:
        """The one open item `user` holds for this instance, as listed in the user's 待办."""
        listed = self.api(user).get("/api/v1/work-items?box=todo&per_page=100").get_json()["items"]
        mine = [item for item in listed if item["instance_id"] == instance_id]
        assert len(mine) == 1, f"{user} should hold exactly one open item of instance {instance_id}: {listed}"
        return mine[0]

    def complete(self, user: str, item_id: int, decision: str = "approve", opinion: str | None = "同意", **extra):
        body = {"decision": decision, **extra}
        if opinion is not None:
            body["opinion"] = opinion
        return self.api(user).post(f"/api/v1/work-items/{item_id}/complete", json=body)

    def decide(self, user: str, instance_id: int, decision: str = "approve", opinion: str | None = "同意") -> dict:
        """`user` decides the item they hold for this instance; the call must succeed."""
        item = self.my_item(user, instance_id)
        response = self.complete(user, item["id"], decision, opinion)
        assert response.status_code == 200, response.get_json()
        return response.get_json()


@pytest.fixture
def leave(api, leave_data) -> LeaveFlow:
    return LeaveFlow(api, leave_data)


@pytest.fixture
def row_counts(core):
    """row_counts() → {"instance": n, "work_item": n, "event": n, "notification": n, "definition": n}"""
    from sqlalchemy import func, select

    from engine.store.tables import definition, event_log, instance, notification, work_item

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
    from engine.org import users

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
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _browser_missing("playwright is not installed (pip install -e '.[test]')")
    if not os.path.exists(CHROMIUM):
        _browser_missing("Debian's chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def live_url(app):
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
