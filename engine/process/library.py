"""The process library shipped with the product (bpmn/ and forms/), and files named on the command line."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from engine.process.bpmn import BPMN_NS, ProblemError, parse_xml

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


def read_bundles(paths) -> list[tuple[str, dict[str, bytes]]]:
    """What `oaflow validate` checks, as (name, files) deployments. Files named one by one are one deployment.
    When a folder is among the paths, each BPMN file is a deployment of its own, with every form given and the
    BPMN files that define the processes it calls (call activities) — a folder of unrelated files is checked
    file by file, and a process library (bpmn/ and forms/) still finds its forms."""
    if not any(Path(raw).is_dir() for raw in paths):
        files = read_paths(paths)
        return [(", ".join(files), files)]
    every: dict[str, bytes] = {}
    for raw in paths:
        path = Path(raw)
        children = sorted(path.rglob("*")) if path.is_dir() else [path]
        for child in children:
            if child.is_file() and (is_bpmn(child.name) or child.suffix == ".json"):
                every[str(child)] = child.read_bytes()
    forms = {Path(name).name: content for name, content in every.items() if not is_bpmn(name)}
    models = {name: content for name, content in every.items() if is_bpmn(name)}
    defined = {name: _processes(content) for name, content in models.items()}
    return [
        (name, {Path(name).name: content, **_called(name, models, defined), **forms})
        for name, content in models.items()
    ]


def _processes(content: bytes) -> tuple[set[str], set[str]]:
    """(processes a file defines, processes its call activities call); nothing when it does not parse."""
    try:
        root = parse_xml(content, "-").getroot()
    except ProblemError:
        return set(), set()
    defines = {p.get("id") for p in root.iter(f"{{{BPMN_NS}}}process") if p.get("id")}
    calls = {c.get("calledElement") for c in root.iter(f"{{{BPMN_NS}}}callActivity") if c.get("calledElement")}
    return defines, calls


def _called(name: str, models: dict[str, bytes], defined: dict) -> dict[str, bytes]:
    """The files defining the processes `name` calls, and those they call in turn."""
    found: dict[str, bytes] = {}
    wanted, seen = set(defined[name][1]) - defined[name][0], {name}
    while wanted:
        other = next((o for o in models if o not in seen and defined[o][0] & wanted), None)
        if other is None:
            break
        seen.add(other)
        found[Path(other).name] = models[other]
        wanted = (wanted - defined[other][0]) | (defined[other][1] - set().union(*(defined[s][0] for s in seen)))
    return found
