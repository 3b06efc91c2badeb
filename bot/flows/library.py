"""Load and validate `flows/*.yml` with file-and-line messages; reload when files change.

A file that fails validation never replaces its last valid version: the caseworker sees the
error (`hamroh flows validate`) and the flow keeps running as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.flows.model import LANGUAGE_NAMES, Flow
from bot.settings import REPO_ROOT

FLOWS_DIR = REPO_ROOT / "flows"


def _line_of(node: yaml.Node | None, location: tuple[Any, ...]) -> int:
    """The 1-based line of the YAML node at a pydantic error location (or the closest parent)."""
    line = node.start_mark.line + 1 if node is not None else 1
    for part in location:
        if isinstance(node, yaml.MappingNode):
            node = next((value for key, value in node.value if key.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def read_flow(path: Path) -> tuple[Flow | None, list[str], list[str]]:
    """One file: the flow (or None), its errors and its warnings, each prefixed `file:line:`."""
    name = path.name
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text)
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        return None, [f"{name}:{mark.line + 1 if mark else 1}: not valid YAML: {getattr(error, 'problem', error)}"], []
    if not isinstance(document, dict):
        return None, [f"{name}:1: a flow file is a mapping with name, trigger and steps"], []
    try:
        flow = Flow.model_validate(document)
    except ValidationError as error:
        return None, [
            f"{name}:{_line_of(node, tuple(problem['loc']))}: {'.'.join(map(str, problem['loc'])) or 'flow'}: "
            f"{problem['msg'].removeprefix('Value error, ')}"
            for problem in error.errors()
        ], []
    if flow.name != path.stem:
        return None, [f"{name}:1: name: the flow is called {flow.name!r} but the file {path.stem!r}"], []
    problems = [f"{name}:{_line_of(node, location)}: {'.'.join(map(str, location))}: {message}"
                for location, message in flow.problems()]
    if problems:
        return None, problems, []
    warnings = [f"{name}: step {step}: no text in {tag}; {LANGUAGE_NAMES[tag]} speakers get the "
                f"{LANGUAGE_NAMES[other]} text (fallback)"
                for step, tags in flow.fallbacks_used().items() for tag, other in tags.items()]
    return flow, [], warnings


@dataclass
class FlowLibrary:
    """The flows in a folder, reloaded whenever a file is added, changed or removed."""

    directory: Path = FLOWS_DIR
    flows: dict[str, Flow] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _signature: tuple[tuple[str, float], ...] = ()
    _last_valid: dict[Path, Flow] = field(default_factory=dict)

    def current(self) -> dict[str, Flow]:
        """The flows now, reloading first if anything in the folder changed."""
        signature = tuple(sorted((p.name, p.stat().st_mtime) for p in self.directory.glob("*.yml")))
        if signature != self._signature:
            self._signature = signature
            self._reload()
        return self.flows

    def _reload(self) -> None:
        errors: list[str] = []
        warnings: list[str] = []
        paths = sorted(self.directory.glob("*.yml"))
        for path in paths:
            flow, file_errors, file_warnings = read_flow(path)
            errors += file_errors
            warnings += file_warnings
            if flow is not None:
                self._last_valid[path] = flow
        self._last_valid = {path: flow for path, flow in self._last_valid.items() if path in paths}
        self.flows = {flow.name: flow for flow in self._last_valid.values()}
        self.errors, self.warnings = errors, warnings
