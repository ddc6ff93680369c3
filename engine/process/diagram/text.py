"""Measuring and wrapping text without a font: widths are estimated per character (CJK characters are
about twice as wide as Latin ones), which is close enough to keep names inside their shapes."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

NAME_SIZE = 12  # font size of names inside activities
LABEL_SIZE = 11  # font size of names outside shapes and of captions
LINE_HEIGHT = 1.25  # in ems
OUTSIDE_LABEL_WIDTH = 90  # bpmn.io wraps external labels at about this width


def _char_width(ch: str, size: float) -> float:
    return (13 if unicodedata.east_asian_width(ch) in ("W", "F") else 7) * size / 12


def text_width(text: str, size: float) -> float:
    return sum(_char_width(ch, size) for ch in text)


def _tokens(paragraph: str) -> Iterator[tuple[str, bool]]:
    """Words to wrap between, each with whether a space preceded it. Every CJK character is a word."""
    word, space = "", False
    for ch in paragraph:
        if ch.isspace():
            if word:
                yield word, space
            word, space = "", True
        elif unicodedata.east_asian_width(ch) in ("W", "F"):
            if word:
                yield word, space
                space = False
            yield ch, space
            word, space = "", False
        else:
            word += ch
    if word:
        yield word, space


def wrap(text: str, width: float, size: float, max_lines: int) -> list[str]:
    """Greedy line breaking by estimated width; the last allowed line ends in '…' when text is cut."""
    lines: list[str] = []
    max_lines = max(1, max_lines)
    for paragraph in text.replace("\r\n", "\n").split("\n"):
        line = ""
        for word, space in _tokens(paragraph):
            joined = f"{line} {word}" if line and space else line + word
            if text_width(joined, size) <= width:
                line = joined
                continue
            if line:
                lines.append(line)
            line = ""
            for ch in word:  # a word wider than the box breaks anywhere
                if line and text_width(line + ch, size) > width:
                    lines.append(line)
                    line = ""
                    if len(lines) > max_lines:
                        break
                line += ch
            if len(lines) > max_lines:
                break
        if line:
            lines.append(line)
        if len(lines) > max_lines:
            break
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and text_width(last + "…", size) > width:
            last = last[:-1]
        lines[-1] = last + "…"
    return lines


def wrap_balanced(text: str, width: float, size: float, max_lines: int) -> list[str]:
    """Like wrap, but as narrow as the same number of lines allows, so that a name does not end in a
    lone character (部门负责人审 / 批). Never narrower than the longest word, which would split it."""
    lines = wrap(text, width, size, max_lines)
    if len(lines) < 2 or lines[-1].endswith("…"):
        return lines
    longest = max(text_width(word, size) for word, _ in _tokens(text))
    step = size / 2
    while width - step >= max(longest, size * 2):
        trial = wrap(text, width - step, size, max_lines)
        if len(trial) != len(lines) or trial[-1].endswith("…"):
            break
        lines, width = trial, width - step
    return lines
