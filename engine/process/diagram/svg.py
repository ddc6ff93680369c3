"""Writing SVG markup: numbers to one decimal, escaped text, and the basic elements (rect, circle, line,
polygon, path) every drawing is built from.

Names and ids come from uploaded files, so all text goes through `escape`, which also drops characters
XML does not allow at all (an escaped one would still make the page's XML invalid).
"""

from __future__ import annotations

import html
import re

from engine.process.diagram.geometry import Box, Point

_XML_INVALID = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def escape(text: str) -> str:
    return html.escape(_XML_INVALID.sub("", text), quote=True)


def num(value: float) -> str:
    """A coordinate as SVG text: one decimal at most, no trailing '.0', and never '-0'."""
    text = f"{value:.1f}"
    text = text.removesuffix(".0")
    return "0" if text == "-0" else text


def point_list(points: list[Point]) -> str:
    return " ".join(f"{num(x)},{num(y)}" for x, y in points)


def rect(box: Box, css: str = "outline", rx: float = 0) -> str:
    corner = f' rx="{num(rx)}"' if rx else ""
    return f'<rect class="{css}" x="{num(box.x)}" y="{num(box.y)}" width="{num(box.w)}" height="{num(box.h)}"{corner}/>'


def circle(cx: float, cy: float, r: float, css: str) -> str:
    return f'<circle class="{css}" cx="{num(cx)}" cy="{num(cy)}" r="{num(max(r, 0))}"/>'


def line(x1: float, y1: float, x2: float, y2: float, css: str = "mark") -> str:
    return f'<line class="{css}" x1="{num(x1)}" y1="{num(y1)}" x2="{num(x2)}" y2="{num(y2)}"/>'


def polygon(points: list[Point], css: str) -> str:
    return f'<polygon class="{css}" points="{point_list(points)}"/>'


def path(d: str, css: str = "mark") -> str:
    return f'<path class="{css}" d="{d}"/>'
