"""`python -m benchmarks.sign_in_load [known|unknown]`: do anonymous password guessers slow a signed-in user?

A real web process (waitress, 8 threads, `benchmarks.server`) on a fresh SQLite demo database. A signed-in
user asks `GET /api/v1/me` 40 times alone, then again while eight anonymous clients post wrong passwords
to `/api/v1/auth/token` as fast as they can: for real accounts (`known`, the default: each guesser its
own demo account) or for made-up user names (`unknown`). Prints the user's median and p90 in both phases and what the
guessers were answered. Uses only HTTP, so the same script measures an older checkout (PYTHONPATH=<old tree>).
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

from engine.core import Core
from engine.org import demo
from engine.store import schema

GUESSERS = 8
SAMPLES = 40


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _post(base: str, path: str, body: dict, headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        base + path, json.dumps(body).encode(), {"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as refused:
        return refused.code, {}


def _user_latency(base: str, token: str) -> list[float]:
    samples = []
    for _ in range(SAMPLES):
        started = time.perf_counter()
        request = urllib.request.Request(base + "/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
        samples.append((time.perf_counter() - started) * 1000)
        time.sleep(0.05)
    return samples


def _summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    return f"median {statistics.median(ordered):7.1f} ms   p90 {ordered[len(ordered) * 9 // 10]:7.1f} ms"


GUESSED = ["lisi", "wangfang", "liuyang", "chenjing", "zhaolei", "huangwei", "sunli", "zhengqiang"]


def main(mode: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'oaflow.sqlite3'}"
        env = {**os.environ, "OAFLOW_DATABASE_URL": url, "OAFLOW_DATA_DIR": directory}
        os.environ.update({"OAFLOW_DATA_DIR": directory})
        core = Core(url=url)
        schema.upgrade(core.db)
        with core.db.write() as conn:
            demo.seed(conn)
        core.db.dispose()
        port = _free_port()
        server = subprocess.Popen([sys.executable, "-m", "benchmarks.server", str(port), "8"], env=env)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            status, body = _post(base, "/api/v1/auth/token", {"username": "zhangsan", "password": demo.DEMO_PASSWORD})
            assert status == 200, status
            token = body["token"]
            alone = _user_latency(base, token)
            stop, answers = threading.Event(), Counter()

            def guess(n: int) -> None:
                tries = 0
                while not stop.is_set():
                    tries += 1
                    name = GUESSED[n] if mode == "known" else f"guess{n}-{tries}"
                    status, _ = _post(base, "/api/v1/auth/token", {"username": name, "password": f"guess-{tries}"})
                    answers[status] += 1

            threads = [threading.Thread(target=guess, args=(n,)) for n in range(GUESSERS)]
            for thread in threads:
                thread.start()
            time.sleep(1)
            attacked = _user_latency(base, token)
            stop.set()
            for thread in threads:
                thread.join()
        finally:
            server.terminate()
            server.wait()
    print(f"signed-in user, alone:                  {_summary(alone)}")
    print(f"signed-in user, {GUESSERS} anonymous guessers:  {_summary(attacked)}")
    print(f"guessers were answered: {dict(sorted(answers.items()))}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "known")
