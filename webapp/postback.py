"""Post/Redirect/Get for the browser's forms. A form POST that fails answers a redirect (303) to the page the
form belongs to, never an error page at the POST address (a refresh would send the form again): the message
is flashed, and what the page needs to show the form again (the field errors, what was typed) is kept in
the session for the one GET that follows — when it is small enough for the session cookie."""

from __future__ import annotations

from urllib.parse import urlsplit

import orjson
from flask import flash, redirect, request, session

from .layout import home_url

KEY = "postback"
MAX_KEPT = 2500  # bytes of kept state; the session is a cookie (about 4 KB in all)
TYPED = ("values", "text", "opinion")  # what the user typed, dropped first when too long


def back(url: str, message: str | None = None, **state):
    """Redirect to `url`, flashing `message` and keeping `state` (errors, values …) for its next GET."""
    if message:
        flash(message, "error")
    if state:
        state = {k: v for k, v in state.items() if v not in (None, "", {}, [])}
        if _size(state) > MAX_KEPT:  # too long to carry: the errors stay, the typing is lost
            state = {k: v for k, v in state.items() if k not in TYPED}
            if "op" in state:
                state["op"] = {**state["op"], "values": {}}
            flash("填写的内容较长，未能保留，请重新填写", "error")
        if _size(state) <= MAX_KEPT:
            session[KEY] = {"url": urlsplit(url).path, **state}
    return redirect(url, 303)


def _size(state: dict) -> int:
    return len(orjson.dumps(state))


def kept() -> dict:
    """What the failed POST kept for this page (once), or {}."""
    state = session.get(KEY)
    if not state or state.get("url") != request.path:
        return {}
    session.pop(KEY)
    return {k: v for k, v in state.items() if k != "url"}


def referrer(default: str | None = None) -> str:
    """Where a failed POST goes back to: the page it was sent from (same site only), else `default` or 待办."""
    source = urlsplit(request.referrer or "")
    if source.path and (not source.netloc or source.netloc == request.host):
        return source.path + (f"?{source.query}" if source.query else "")
    return default or home_url()
