"""The process library shipped with the product (bpmn/ and forms/), and files named on the command line."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BPMN_SUFFIXES = (".bpmn", ".bpmn20.xml", ".xml")


def is_bpmn(name: str) -> bool:
    return name.lower().endswith(BPMN_SUFFIXES)


def _package_dir(package: str, repo_folder: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is not None and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    return Path(__file__).resolve().parent.parent / repo_folder


def library_dirs() -> tuple[Path, Path]:
    """bpmn/ and forms/: the repository's folders, or their installed copies (package data)."""
    return _package_dir("oaflow_bpmn", "bpmn"), _package_dir("oaflow_forms", "forms")


def library_files() -> dict[str, bytes]:
    bpmn_dir, forms_dir = library_dirs()
    files = {p.name: p.read_bytes() for p in sorted(bpmn_dir.glob("*.bpmn"))}
    files.update({p.name: p.read_bytes() for p in sorted(forms_dir.glob("*.json"))})
    return files


def read_paths(paths) -> dict[str, bytes]:
    """Files named on the command line; a folder contributes its .bpmn and .json files."""
    files: dict[str, bytes] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and (is_bpmn(child.name) or child.suffix == ".json"):
                    files[child.name] = child.read_bytes()
        else:
            files[path.name] = path.read_bytes()
    return files
