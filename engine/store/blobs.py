"""Content-addressed storage of uploaded files: `<files dir>/ab/cdef…`, named by the content's SHA-256.

The files directory is OAFLOW_FILES_DIR, else `files` in the data directory (which `oaflow backup` carries).
An upload is first received into a private temporary file in `<files dir>/.incoming`, hashed and measured
as it arrives; only once every check has passed is it kept, by a rename into place, so a reader never sees a
half-written file and identical content is stored once. Files are never changed in place: a new version of
a document is new content under its own name.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from engine.errors import TooLarge
from engine.store.database import default_data_dir

ENVIRONMENT = "OAFLOW_FILES_DIR"
INCOMING = ".incoming"
CHUNK = 64 * 1024
HEAD = 8 * 1024  # what content sniffing reads


def files_directory() -> Path:
    """OAFLOW_FILES_DIR, else `<data dir>/files`."""
    configured = os.environ.get(ENVIRONMENT, "").strip()
    return Path(configured).expanduser() if configured else default_data_dir() / "files"


@dataclass
class Received:
    """An upload in its temporary file, not kept yet."""

    path: Path
    size: int
    sha256: str
    head: bytes


class BlobStore:
    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root is not None else files_directory()

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:]

    def receive(self, stream, limit: int, too_large: str) -> Received:
        """Copy `stream` into a private temporary file, hashing it; TooLarge(too_large) past `limit` bytes
        (the partial file is removed)."""
        incoming = self.root / INCOMING
        incoming.mkdir(parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(dir=incoming, prefix="upload-")  # mode 0600
        path = Path(name)
        digest, size, head = hashlib.sha256(), 0, b""
        try:
            with os.fdopen(descriptor, "wb") as file:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise TooLarge(too_large)
                    if len(head) < HEAD:
                        head += chunk[: HEAD - len(head)]
                    digest.update(chunk)
                    file.write(chunk)
                file.flush()
                os.fsync(file.fileno())
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return Received(path, size, digest.hexdigest(), head)

    def keep(self, received: Received) -> Path:
        """Move the upload into place under its hash (atomic rename); content already there is kept as is."""
        target = self.path(received.sha256)
        if target.exists():
            received.path.unlink(missing_ok=True)
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(received.path, target)
        return target

    @staticmethod
    def discard(received: Received) -> None:
        received.path.unlink(missing_ok=True)
