"""Deploy-time problems in the page's language: Chinese, or English on `?lang=en`.

The English texts live beside the checks (engine/process/validation/english.py), because `oaflow validate
--lang en` gives them too and runs without the web stack; this module only picks the language.
"""

from __future__ import annotations

from engine.errors import DeployProblem
from engine.process.validation.english import in_english

from .i18n import current_lang


def deploy_message(message: str) -> str:
    return in_english(message) if current_lang() == "en" else message


def problem_dict(problem: DeployProblem) -> dict:
    """A problem as the API answers it: file, line, element and the message in the request's language."""
    return {**problem.as_dict(), "message": deploy_message(problem.message)}
