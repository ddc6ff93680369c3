"""Which files the product accepts, and whether a file is what its name says.

The allowlist is the documents and images an office exchanges: docx, pdf, ofd (版式文件), wps, xlsx, jpg/jpeg
and png. A form field narrows it with `accept` (e.g. ["docx", "pdf"] for a contract text). The name's
extension decides the type, and the content must agree: its first bytes (the "magic"), and for the
zip-based formats the parts inside the package. A mismatch (an .exe renamed .pdf) is refused.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from engine.errors import FieldError, InvalidData

MEDIA_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "ofd": "application/ofd",
    "wps": "application/vnd.ms-works",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
}
ALLOWED = tuple(MEDIA_TYPES)
_ZIP = b"PK\x03\x04"
_MAGIC = {
    "pdf": b"%PDF-",
    "png": b"\x89PNG\r\n\x1a\n",
    "jpg": b"\xff\xd8\xff",
    "jpeg": b"\xff\xd8\xff",
    "wps": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",  # OLE2 compound file, as .doc and .wps are
    "docx": _ZIP,
    "xlsx": _ZIP,
    "ofd": _ZIP,
}
# A part that the package of each zip-based format has (OFD: GB/T 33190's entry file).
_ZIP_PART = {"docx": "word/", "xlsx": "xl/", "ofd": "OFD.xml"}
MAX_NAME = 255


def accept_list(accept) -> tuple[str, ...]:
    """A field's `accept` as extensions (["docx", ".PDF"] → ("docx", "pdf")); the whole allowlist if unset."""
    if not accept:
        return ALLOWED
    return tuple(str(a).strip().lower().lstrip(".") for a in accept)


def unknown_types(accept) -> list[str]:
    """The entries of an `accept` list that are not on the allowlist (deploy-time check)."""
    return [a for a in accept_list(accept) if a not in MEDIA_TYPES]


def clean_name(name, field: str, label: str) -> str:
    """The file's own name, without the folders some browsers send, control characters or NUL."""
    text = str(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    text = re.sub(r"[\x00-\x1f\x7f]", "", text).strip()
    if not text or text in {".", ".."}:
        raise InvalidData([FieldError(field, f"{label}：请选择要上传的文件")])
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        raise InvalidData([FieldError(field, f"{label}：文件名含有无效字符")])
    if len(text) > MAX_NAME:
        stem, dot, extension = text.rpartition(".")
        text = stem[: MAX_NAME - len(extension) - 1] + dot + extension if dot else text[:MAX_NAME]
    return text


def extension_of(name: str) -> str:
    return name.rpartition(".")[2].lower() if "." in name else ""


def refusal(accept, label: str) -> str:
    return f"{label}：只接受 {'、'.join(accept_list(accept))} 文件"


def check_extension(name: str, accept, field: str, label: str) -> str:
    """The extension, when the allowlist and the field's `accept` both take it; else InvalidData."""
    extension = extension_of(name)
    if extension not in MEDIA_TYPES or extension not in accept_list(accept):
        raise InvalidData([FieldError(field, refusal(accept, label))])
    return extension


def check_content(extension: str, head: bytes, path: Path, field: str, label: str) -> None:
    """InvalidData unless the content is a file of that type."""
    matches = head.startswith(_MAGIC[extension])
    if matches and extension in _ZIP_PART:
        matches = _has_part(path, _ZIP_PART[extension])
    if not matches:
        raise InvalidData([FieldError(field, f"{label}：文件内容不是 {extension} 格式（与扩展名不符），未被接收")])


def _has_part(path: Path, part: str) -> bool:
    try:
        with zipfile.ZipFile(path) as package:
            return any(name == part or name.startswith(part) for name in package.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
