"""What the machine itself costs: the round trip between two processes on loopback.

Every PostgreSQL statement and every HTTP request is such a round trip. On a VM whose idle vCPUs halt,
waking the other side costs tens of microseconds; the figure puts the PostgreSQL rows in perspective.
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import time

_ECHO = """
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
while True:
    data = s.recv(64)
    if not data:
        break
    s.sendall(data)
"""


def loopback_round_trip_us(samples: int = 2000) -> float:
    """Median microseconds for one byte to another process and back (TCP, loopback)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        echo = subprocess.Popen([sys.executable, "-c", _ECHO, str(server.getsockname()[1])])
        try:
            conn, _ = server.accept()
            with conn:
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                values = []
                for _ in range(samples):
                    started = time.perf_counter()
                    conn.sendall(b"x")
                    conn.recv(64)
                    values.append((time.perf_counter() - started) * 1e6)
        finally:
            echo.wait(10)
    return statistics.median(values[samples // 10 :])
