"""A benchmark web process: `python -m benchmarks.server PORT THREADS` on OAFLOW_DATABASE_URL."""

import logging
import sys

from waitress import serve

from engine.core import Core
from webapp import create_app

if __name__ == "__main__":
    logging.disable(logging.WARNING)
    port, threads = int(sys.argv[1]), int(sys.argv[2])
    serve(create_app(Core()), host="127.0.0.1", port=port, threads=threads, _quiet=True)
