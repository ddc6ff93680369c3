"""The virus scanner an administrator may configure: every upload is scanned before it is kept.

OAFLOW_VIRUS_SCAN is a command line, e.g. `clamdscan --no-summary {path}` (`{path}` is the uploaded file;
without it the path is added at the end). It is split like a shell would split it but run without a shell,
with a time limit (OAFLOW_VIRUS_SCAN_TIMEOUT seconds, default 60). Exit status 0 lets the file in; any other
status, a timeout or a scanner that cannot be run refuses it. Unset: no scanning.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

from engine.errors import FieldError, InvalidData

ENVIRONMENT = "OAFLOW_VIRUS_SCAN"
TIMEOUT_ENVIRONMENT = "OAFLOW_VIRUS_SCAN_TIMEOUT"
DEFAULT_TIMEOUT = 60.0


def command_for(path: Path) -> list[str] | None:
    """The scanner's argument list for `path`, or None when no scanner is configured."""
    configured = os.environ.get(ENVIRONMENT, "").strip()
    if not configured:
        return None
    words = shlex.split(configured)
    if any("{path}" in word for word in words):
        return [word.replace("{path}", str(path)) for word in words]
    return [*words, str(path)]


def _timeout() -> float:
    try:
        return max(1.0, float(os.environ.get(TIMEOUT_ENVIRONMENT) or DEFAULT_TIMEOUT))
    except ValueError:
        return DEFAULT_TIMEOUT


def scan(path: Path, field: str, label: str) -> None:
    """InvalidData naming `field` unless the configured scanner passes the file (nothing to do without one)."""
    command = command_for(path)
    if command is None:
        return
    try:
        result = subprocess.run(command, capture_output=True, timeout=_timeout(), check=False)  # noqa: S603
    except subprocess.TimeoutExpired:
        raise InvalidData([FieldError(field, f"{label}：病毒扫描超时，文件未被接收，请稍后重试")]) from None
    except OSError:
        raise InvalidData([FieldError(field, f"{label}：病毒扫描程序无法运行，文件未被接收，请联系管理员")]) from None
    if result.returncode != 0:
        raise InvalidData([FieldError(field, f"{label}：文件未通过病毒扫描，已拒收")])
