"""The report every deploy-time check appends to: errors refuse the deployment, warnings only inform.

Element ids are shortened for display, so one generated or pasted id cannot flood the message list.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.errors import DeployProblem


@dataclass
class Report:
    problems: list[DeployProblem] = field(default_factory=list)
    warnings: list[DeployProblem] = field(default_factory=list)

    def error(self, file, line, element, message) -> None:
        self.problems.append(DeployProblem(file, line, _shown(element), message))

    def warn(self, file, line, element, message) -> None:
        self.warnings.append(DeployProblem(file, line, _shown(element), message, severity="warning"))


def _shown(element: str | None) -> str | None:
    if element is None:
        return None
    return element if len(element) <= 80 else element[:77] + "…"
