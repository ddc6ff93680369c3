"""`python -m benchmarks.web_flow [--rounds N] [--flows N] [--quick]`: the side-by-side shape.

What another BPMN platform is measured with, run against oaflow the way a user runs it: a real
`oaflow serve` process with its defaults (8 threads, the scheduler in the process, SQLite in a fresh data
directory prepared by `oaflow demo --prepare-only`), the two-user-task flow of `benchmarks/flows/` deployed
over HTTP, and one keep-alive HTTP client per user doing, per flow:

    张三  POST /api/v1/instances                      发起 (the answer names the first work item)
    孙丽  POST /api/v1/work-items/{id}/complete       部门审批 同意
    黄伟  GET  /api/v1/work-items?box=todo            待办: finds the second work item
    黄伟  POST /api/v1/work-items/{id}/complete       分管领导审批 同意 (the instance ends)

Per round: client milliseconds per flow (median of the round's flows) and the server's CPU milliseconds per
flow (utime + stime of the whole process, every thread, from /proc/<pid>/stat before and after the round,
divided by the round's flows). Then the per-request floor: an authenticated `GET /api/v1/me` against a
static file (`/static/print.css`) from the same server, alternating, and their ratio. Reports the median
over rounds; the server's CPU includes whatever else it does meanwhile (the scheduler, checkpoints).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from .stats import Result

FLOWS = Path(__file__).parent / "flows"
PASSWORD = "oaflow-demo"  # engine.org.demo.DEMO_PASSWORD: only HTTP here, so the script measures any tree
TICKS = os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _oaflow(*args: str) -> list[str]:
    return [sys.executable, "-m", "webapp.cli", *args]


def _clean_env(data_dir: str) -> dict:
    """The defaults: no database URL, secret or other setting from the caller's environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAFLOW_")}
    env["OAFLOW_DATA_DIR"] = data_dir
    return env


class WebServer:
    """`oaflow serve` on a demo data directory; its CPU time from /proc."""

    def __init__(self, data_dir: str, *serve_args: str):
        env = _clean_env(data_dir)
        subprocess.run(
            _oaflow("demo", "--prepare-only", "--data-dir", data_dir), env=env, check=True, capture_output=True
        )
        self.port = _free_port()
        self.process = subprocess.Popen(
            _oaflow("serve", "--data-dir", data_dir, "--port", str(self.port), *serve_args),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("oaflow serve exited: " + self.process.stderr.read().decode())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("oaflow serve did not start")

    def cpu_ms(self) -> float:
        """User + system CPU of the whole server process (all threads) so far, in milliseconds."""
        with open(f"/proc/{self.process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000 / TICKS  # utime, stime (fields 14 and 15)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


class Client:
    """One user's keep-alive HTTP connection with their API token."""

    def __init__(self, port: int, username: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Content-Type": "application/json"}
        token = self.call("POST", "/api/v1/auth/token", {"username": username, "password": PASSWORD})["token"]
        self.headers["Authorization"] = "Bearer " + token

    def raw(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> bytes:
        self.conn.request(method, path, body=body, headers=headers or self.headers)
        response = self.conn.getresponse()
        payload = response.read()
        if response.status >= 400:
            raise RuntimeError(f"{method} {path}: {response.status} {payload[:300]!r}")
        return payload

    def call(self, method: str, path: str, body=None):
        payload = self.raw(method, path, json.dumps(body).encode() if body is not None else None)
        return json.loads(payload) if payload else None

    def deploy(self, paths: list[Path]) -> None:
        boundary = uuid.uuid4().hex
        parts = []
        for path in paths:
            head = f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{path.name}"\r\n\r\n'
            parts.append(head.encode() + path.read_bytes() + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        headers = {**self.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"}
        self.raw("POST", "/api/v1/deployments", body, headers)


class Users:
    """The flow's three people: 张三 applies, 孙丽 (his department's leader) and 黄伟 (分管领导) approve."""

    def __init__(self, port: int):
        Client(port, "admin").deploy(sorted(FLOWS.glob("*")))
        self.applicant = Client(port, "zhangsan")
        self.first = Client(port, "sunli")
        self.second = Client(port, "huangwei")

    def flow(self, n: int) -> None:
        started = self.applicant.call(
            "POST", "/api/v1/instances", {"process": "bench_two_tasks", "data": {"subject": f"第 {n} 次"}}
        )
        (first,) = [w["id"] for w in started["work_items"] if w["status"] == "open" and w["kind"] == "approve"]
        self.first.call("POST", f"/api/v1/work-items/{first}/complete", {"decision": "approve", "opinion": "同意"})
        todo = self.second.call("GET", "/api/v1/work-items?box=todo&per_page=50")
        (second,) = [w["id"] for w in todo["items"] if w["instance_id"] == started["id"]]
        done = self.second.call(
            "POST", f"/api/v1/work-items/{second}/complete", {"decision": "approve", "opinion": "同意"}
        )
        if done.get("status") != "approved":
            raise RuntimeError(f"flow {n} did not end: {done}")


def run_flows(server: WebServer, people: Users, rounds: int, flows: int) -> tuple[list[float], list[float]]:
    """Per round: (client ms per flow, median of the round; server CPU ms per flow)."""
    client_ms, cpu_ms = [], []
    n = 0
    for _ in range(rounds):
        times = []
        cpu_before = server.cpu_ms()
        for _ in range(flows):
            n += 1
            started = time.perf_counter()
            people.flow(n)
            times.append((time.perf_counter() - started) * 1000)
        cpu_ms.append((server.cpu_ms() - cpu_before) / flows)
        client_ms.append(statistics.median(times))
    return client_ms, cpu_ms


def me_vs_static(people: Users, rounds: int, requests: int) -> tuple[list[float], list[float]]:
    """Per round: median client ms of an authenticated GET /api/v1/me and of GET /static/print.css,
    alternating request by request on the same keep-alive connection."""
    client = people.applicant
    plain = {"Accept": "*/*"}
    me, static = [], []
    for _ in range(rounds):
        me_times, static_times = [], []
        for _ in range(requests):
            started = time.perf_counter()
            client.raw("GET", "/api/v1/me")
            me_times.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            client.raw("GET", "/static/print.css", headers=plain)
            static_times.append((time.perf_counter() - started) * 1000)
        me.append(statistics.median(me_times))
        static.append(statistics.median(static_times))
    return me, static


def measure(*, rounds: int, flows: int, requests: int, warm_up: int, progress=lambda text: None) -> dict:
    with tempfile.TemporaryDirectory(prefix="oaflow-web-") as data_dir:
        progress("oaflow demo --prepare-only, oaflow serve")
        server = WebServer(data_dir)
        try:
            people = Users(server.port)
            for n in range(warm_up):
                people.flow(-n)
            me_vs_static(people, 1, warm_up)
            progress(f"{rounds} rounds × {flows} flows")
            client_ms, cpu_ms = run_flows(server, people, rounds, flows)
            me, static = me_vs_static(people, rounds, requests)
        finally:
            server.stop()
    return {"client_ms": client_ms, "cpu_ms": cpu_ms, "me_ms": me, "static_ms": static}


def results(figures: dict, flows: int) -> list[Result]:
    ratios = [m / s for m, s in zip(figures["me_ms"], figures["static_ms"], strict=True)]
    return [
        Result(
            "web flow: client per flow", "sqlite", figures["client_ms"], note=f"oaflow serve, 4 requests, {flows}/round"
        ),
        Result("web flow: server CPU per flow", "sqlite", figures["cpu_ms"], goal="≤ 14 ms", note="utime+stime, /proc"),
        Result("web: GET /api/v1/me", "sqlite", figures["me_ms"], note="authenticated, keep-alive"),
        Result("web: GET static file", "sqlite", figures["static_ms"], note="/static/print.css, same server"),
        Result("web: /me ÷ static file", "sqlite", ratios, unit="×", goal="≤ 1.5 ×"),
    ]


def web(tmp, backend, url, *, quick, progress):
    """The `python -m benchmarks` row: the defaults of `oaflow serve` are SQLite in its data directory."""
    flows = 5 if quick else 40
    figures = measure(
        rounds=1 if quick else 5,
        flows=flows,
        requests=20 if quick else 200,
        warm_up=3 if quick else 20,
        progress=progress,
    )
    yield from results(figures, flows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.web_flow", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--flows", type=int, default=40, help="flows per round")
    parser.add_argument("--requests", type=int, default=200, help="GET /me and static file requests per round")
    parser.add_argument("--quick", action="store_true", help="one short round (a smoke run)")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.flows, args.requests = 1, 5, 20
    figures = measure(
        rounds=args.rounds,
        flows=args.flows,
        requests=args.requests,
        warm_up=20,
        progress=lambda text: print(f"  … {text}", file=sys.stderr, flush=True),
    )
    for name, values in figures.items():
        print(f"{name:<10} per round: {', '.join(f'{v:.2f}' for v in values)}")
    for result in results(figures, args.flows):
        print(f"{result.metric:<32} median {result.fmt(result.median):>10}   goal {result.goal or '—'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
