"""What the `oaflow` commands share: opening the database, naming it, and the [i/n] steps with timings."""

from __future__ import annotations

import os
import time
from pathlib import Path

import click

from engine.core import Core


def step(number: int, total: int, text: str) -> float:
    click.echo(f"[{number}/{total}] {text}…", nl=False)
    return time.perf_counter()


def done(started: float, extra: str = "") -> None:
    click.echo(f" 完成（{(time.perf_counter() - started) * 1000:.0f} ms）{extra}")


def open_core(data_dir: str | None) -> Core:
    if data_dir:
        os.environ["OAFLOW_DATA_DIR"] = str(Path(data_dir).resolve())
    try:
        return Core()
    except Exception as exc:  # a bad URL, a driver that is not installed …
        raise click.ClickException(
            f"无法连接数据库：{exc}\n"
            "请检查 OAFLOW_DATABASE_URL；使用 PostgreSQL 需先安装：pip install 'oaflow[postgres]'"
        ) from None


def describe_db(core: Core) -> str:
    url = core.db.engine.url
    return f"SQLite {url.database}" if core.db.is_sqlite else f"PostgreSQL {url.host}:{url.port}/{url.database}"


class Steps:
    """Prints an engine verb's fixed steps as `[i/n] text… 完成（ms）details`, one line each."""

    def __init__(self, total: int):
        self.total = total
        self.number = 0
        self.started: float | None = None
        self.details: list[str] = []

    def step(self, text: str) -> None:
        self.finish()
        self.number += 1
        self.started = step(self.number, self.total, text)

    def detail(self, text: str) -> None:
        self.details.append(text)

    def finish(self) -> None:
        if self.started is not None:
            done(self.started, "，".join(self.details))
        self.started, self.details = None, []

    def failed(self) -> None:
        """End the open step's line, so the error starts on a line of its own."""
        if self.started is not None:
            click.echo(" 失败")
        self.started, self.details = None, []
