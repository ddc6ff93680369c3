"""The backup file: one .tar.gz holding a manifest, the database copy and the data directory's files.

The manifest comes first so that telling a backup from any other file, and its version, costs one small
read. Files are written to `<name>.partial` and renamed at the end, so a file with the final name is
always complete. The archive holds every secret the installation has (the signing key, the SMTP
password): it is created readable by its owner only.
"""

from __future__ import annotations

import json
import os
import stat
import tarfile
import zlib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path, PurePosixPath

from engine.errors import OaflowError

FORMAT = "oaflow-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
FILES = "files/"
PARTIAL = ".partial"
# Work files of a backup or restore in progress (the database copy, files being restored): never backed up.
TEMP_PREFIX = ".oaflow-"
# The level that costs a third of level 9's time for nearly the same size on database pages.
COMPRESS_LEVEL = 6
CHUNK = 1 << 20


class BackupError(OaflowError):
    """A backup or restore that cannot go on; the message says why and what to do."""


@dataclass
class Manifest:
    backend: str  # sqlite | postgresql
    database: str  # the member holding the database copy
    database_bytes: int
    schema_revision: str
    created_at: str  # ISO 8601 with the offset of the machine that made it
    instances: int
    work_items: int
    oaflow_version: str
    files: list[dict] = field(default_factory=list)  # [{"path": "secret.key", "bytes": 64}] relative, POSIX
    format: str = FORMAT
    format_version: int = FORMAT_VERSION


@dataclass(frozen=True)
class DataFile:
    path: Path
    name: str  # relative to the data directory, POSIX separators
    size: int


def data_files(data_dir: Path, skip: set[Path]) -> list[DataFile]:
    """Every regular file under the data directory except the `skip` paths (files or folders), the work
    files of a backup or restore in progress and unfinished archives. Symbolic links are not followed."""
    found: list[DataFile] = []
    if not data_dir.is_dir():
        return found
    skip = {p.resolve() for p in skip}
    root_dir = data_dir.resolve()
    for root, dirs, names in os.walk(root_dir):
        here = Path(root)
        dirs[:] = sorted(d for d in dirs if not d.startswith(TEMP_PREFIX) and (here / d) not in skip)
        for name in sorted(names):
            path = here / name
            if name.startswith(TEMP_PREFIX) or name.endswith(PARTIAL) or path in skip:
                continue
            info = path.lstat()
            if stat.S_ISREG(info.st_mode):
                found.append(DataFile(path, path.relative_to(root_dir).as_posix(), info.st_size))
    return found


def write(target: Path, manifest: Manifest, database: Path, files: list[DataFile]) -> int:
    """Write the archive to `target` (refusing to replace an existing file); returns its size."""
    partial = target.with_name(target.name + PARTIAL)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=COMPRESS_LEVEL) as tar:
                text = json.dumps(asdict(manifest), ensure_ascii=False, indent=2).encode("utf-8")
                _add(tar, MANIFEST, text)
                _add_file(tar, manifest.database, database)
                for item in files:
                    _add_file(tar, FILES + item.name, item.path)
            raw.flush()
            os.fsync(raw.fileno())
        if target.exists():
            raise BackupError(f"备份文件 {target} 已存在：请换一个文件名")
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    sync_directory(target.parent)
    return target.stat().st_size


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    tar.addfile(info, _BytesReader(data))


def _add_file(tar: tarfile.TarFile, name: str, path: Path) -> None:
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise BackupError(f"文件 {path} 在备份过程中被删除：请重新备份") from None
    with handle:
        info = tar.gettarinfo(arcname=name, fileobj=handle)
        tar.addfile(info, handle)


class _BytesReader:
    def __init__(self, data: bytes):
        self.data, self.offset = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size < 0 else self.offset + size
        chunk, self.offset = self.data[self.offset : end], min(end, len(self.data))
        return chunk


def not_a_backup(path: Path) -> BackupError:
    return BackupError(f"{path} 不是 oaflow 备份文件（应为 oaflow backup 生成的 .tar.gz 文件）")


def read_manifest(path: Path) -> Manifest:
    """The manifest, checked: a readable oaflow backup of a format this version understands."""
    if not path.is_file():
        raise BackupError(f"找不到备份文件 {path}")
    try:
        with tarfile.open(path, "r:gz") as tar:
            first = tar.next()
            if first is None or first.name != MANIFEST or not first.isfile():
                raise not_a_backup(path)
            data = json.loads(tar.extractfile(first).read().decode("utf-8"))
    except (tarfile.TarError, OSError, EOFError, zlib.error, UnicodeDecodeError, ValueError):
        raise not_a_backup(path) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise not_a_backup(path)
    version = data.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise BackupError(
            f"备份文件格式版本 {version} 比本程序支持的版本（{FORMAT_VERSION}）新："
            "请用生成它的 oaflow 版本或更新的版本恢复"
        )
    try:
        return Manifest(**{f.name: data[f.name] for f in fields(Manifest)})
    except (KeyError, TypeError):
        raise BackupError(f"备份文件 {path} 的清单不完整：文件可能已损坏") from None


def unpack(path: Path, manifest: Manifest, database_to: Path, files_to: Path) -> None:
    """One pass over the archive: the database copy to `database_to`, the data files under `files_to`.
    Every member is checked (no absolute paths, no `..`, regular files only) and every file the
    manifest lists must arrive whole."""
    expected = {f["path"]: f["bytes"] for f in manifest.files}
    arrived: dict[str, int] = {}
    try:
        with tarfile.open(path, "r|gz") as tar:
            for member in tar:
                if member.name == MANIFEST:
                    continue
                if not member.isfile():
                    raise BackupError(f"备份文件中有不允许的条目 {member.name}：文件可能已被篡改")
                if member.name == manifest.database:
                    _copy_out(tar, member, database_to)
                    arrived[member.name] = member.size
                    continue
                name = _safe_name(member.name)
                if name not in expected:
                    raise BackupError(f"备份文件中有清单未列出的条目 {member.name}：文件可能已被篡改")
                target = files_to / name
                target.parent.mkdir(parents=True, exist_ok=True)
                _copy_out(tar, member, target)
                os.chmod(target, member.mode & 0o777)
                arrived[name] = member.size
    except (tarfile.TarError, EOFError, zlib.error):
        raise BackupError(f"备份文件 {path} 已损坏或不完整（解压失败）") from None
    if arrived.get(manifest.database) != manifest.database_bytes:
        raise BackupError(f"备份文件 {path} 中的数据库副本缺失或不完整")
    missing = [name for name, size in expected.items() if arrived.get(name) != size]
    if missing:
        raise BackupError(f"备份文件 {path} 中缺少或不完整的文件：{'、'.join(missing[:5])}")


def _safe_name(member: str) -> str:
    if not member.startswith(FILES):
        raise BackupError(f"备份文件中有不认识的条目 {member}：文件可能已被篡改")
    relative = PurePosixPath(member[len(FILES) :])
    if relative.is_absolute() or not relative.parts or any(p in ("", ".", "..") for p in relative.parts):
        raise BackupError(f"备份文件中有不安全的路径 {member}：已拒绝恢复")
    return relative.as_posix()


def _copy_out(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> None:
    source = tar.extractfile(member)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        while chunk := source.read(CHUNK):
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())


def move_files(staged: Path, data_dir: Path) -> int:
    """Move the unpacked data files into the data directory, each replacing its namesake in one rename;
    returns how many replaced a file that was already there."""
    replaced = 0
    for source in sorted(p for p in staged.rglob("*") if p.is_file()):
        target = data_dir / source.relative_to(staged)
        target.parent.mkdir(parents=True, exist_ok=True)
        replaced += target.exists()
        os.replace(source, target)
        sync_directory(target.parent)
    return replaced


def sync_directory(directory: Path) -> None:
    """Make a rename in `directory` durable (POSIX; a no-op where directories cannot be opened)."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
