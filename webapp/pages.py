"""Browser pages (placeholder until the page work lands)."""

from flask import Blueprint, render_template_string

bp = Blueprint("pages", __name__)


def error_page(message: str, status: int):
    return render_template_string("<p>{{ m }}</p>", m=message), status


@bp.get("/login")
def login():
    return "login"
