"""Domain exceptions. Each carries a user-facing message (Chinese by default) and an HTTP-ish status
so the web layer maps them in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class OaflowError(Exception):
    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(OaflowError):
    status = 404


class Forbidden(OaflowError):
    status = 403


class Conflict(OaflowError):
    """Wrong state: already handled, instance ended, or a concurrent change won the race."""

    status = 409


class Unauthorized(OaflowError):
    status = 401


class TooManyAttempts(OaflowError):
    """Sign-in refused without checking the password: too many failures; `retry_after` seconds to wait."""

    status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


ADMIN_ONLY = "只有管理员可以执行此操作"


class Actor(Protocol):
    """The user acting, as the areas below engine.work see it: engine.org.users.User, which they may not
    import (the dependency rule), passed in by the caller who resolved it."""

    id: int
    username: str
    is_admin: bool


def require_admin(actor: Actor, message: str = ADMIN_ONLY) -> None:
    """Forbidden unless the acting user is an administrator."""
    if not actor.is_admin:
        raise Forbidden(message)


@dataclass
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict:
        return {"field": self.field, "message": self.message}


class InvalidData(OaflowError):
    """Form data failed validation; nothing was stored."""

    status = 422

    def __init__(self, errors: list[FieldError]):
        super().__init__("；".join(f"{e.field}: {e.message}" for e in errors) or "数据无效")
        self.errors = errors


@dataclass
class DeployProblem:
    file: str
    line: int | None
    element: str | None
    message: str
    severity: str = "error"

    def as_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "element": self.element, "message": self.message}

    def __str__(self) -> str:
        where = f"{self.file}:{self.line if self.line else '?'}"
        return f"{where}: {self.element or '-'}: {self.message}"


@dataclass
class DeployFailed(OaflowError):
    problems: list[DeployProblem] = field(default_factory=list)
    warnings: list[DeployProblem] = field(default_factory=list)
    status = 422

    def __post_init__(self):
        OaflowError.__init__(self, "部署失败：\n" + "\n".join(str(p) for p in self.problems))


class TooLarge(OaflowError):
    """An upload past the configured size limit; nothing was stored."""

    status = 413
