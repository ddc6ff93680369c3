"""`python -m benchmarks.sign_in_timing [N]`: can the time of a refused sign-in tell which user names exist?

POST /api/v1/auth/token through Flask's in-process test client on a fresh SQLite demo database: N wrong
passwords for a real account against N unknown user names (median and spread of each), and N attempts
refused by the throttle. Each attempt comes from its own client address, and a right password (not timed)
follows each wrong one, so the throttle never steps in where it is not measured. Uses only the HTTP API,
so the same script times an older checkout (PYTHONPATH=<old tree>).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from engine.core import Core
from engine.org import demo
from engine.store import schema
from webapp import create_app

PASSWORD = demo.DEMO_PASSWORD


def _attempt(client, username: str, password: str, address: str) -> tuple[float, int]:
    started = time.perf_counter()
    response = client.post(
        "/api/v1/auth/token", json={"username": username, "password": password}, environ_base={"REMOTE_ADDR": address}
    )
    return (time.perf_counter() - started) * 1000, response.status_code


def _summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    return (
        f"median {statistics.median(ordered):7.1f} ms   p10 {ordered[len(ordered) // 10]:7.1f}"
        f"   p90 {ordered[len(ordered) * 9 // 10]:7.1f}"
    )


def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        os.environ.setdefault("OAFLOW_SECRET_KEY", "sign-in-timing")
        core = Core(url=f"sqlite:///{Path(directory) / 'oaflow.sqlite3'}")
        schema.upgrade(core.db)
        with core.db.write() as conn:
            demo.seed(conn)
        client = create_app(core, {"TESTING": True}).test_client()
        _attempt(client, "zhangsan", PASSWORD, "10.9.9.9")  # warm up: first request, first hash
        wrong, unknown, statuses = [], [], set()
        for n in range(count):
            elapsed, status = _attempt(client, "zhangsan", "wrong-password", f"10.1.{n // 250}.{n % 250}")
            wrong.append(elapsed)
            statuses.add(status)
            _attempt(client, "zhangsan", PASSWORD, f"10.1.{n // 250}.{n % 250}")  # clears the account's count
            elapsed, status = _attempt(client, f"nobody-{n}", "wrong-password", f"10.2.{n // 250}.{n % 250}")
            unknown.append(elapsed)
            statuses.add(status)
        throttled = []
        for n in range(count + 5):
            elapsed, status = _attempt(client, "lisi", "wrong-password", "10.3.0.1")
            if n >= 5:
                throttled.append(elapsed)
                statuses.add(status)
        core.db.dispose()
    print(f"{count} attempts each, statuses seen {sorted(statuses)}")
    print(f"wrong password (zhangsan)   {_summary(wrong)}")
    print(f"unknown user name           {_summary(unknown)}")
    print(f"throttled (lisi, locked)    {_summary(throttled)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
