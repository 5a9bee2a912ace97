"""daglab's one exception tree; every error carries its exit code and a remediation line.

    DaglabError                      (1, unexpected; never raised directly)
    ├── UsageError                   2  invalid CLI usage
    ├── EnvironmentMissingError      3  environment or runtime missing (Dagster, marimo, project)
    ├── RunFailedError               4  a Dagster run failed or was canceled
    ├── ConnectivityError            5  network or connectivity problem
    ├── AuthenticationError          6  the server refused our credentials
    ├── ValidationError              7  invalid configuration, input or template
    │   ├── ConfigError              7  a daglab.yaml / pyproject / env value is invalid
    │   └── TemplateError            7  a template failed to render
    └── ConflictError                8  resource conflict (port in use, file exists)

Commands raise; the CLI's single handler prints the message and remediation and exits with the
code. Nobody else calls ``sys.exit``.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum
from typing import Any, ClassVar


class ExitCode(IntEnum):
    """Exit codes of section 9 of the specification. They never collide with signal codes."""

    OK = 0
    UNEXPECTED = 1
    USAGE = 2
    ENVIRONMENT = 3
    RUN_FAILED = 4
    CONNECTIVITY = 5
    AUTHENTICATION = 6
    VALIDATION = 7
    CONFLICT = 8


class DaglabError(Exception):
    """Root of every error daglab raises on purpose."""

    exit_code: ClassVar[ExitCode] = ExitCode.UNEXPECTED
    default_remediation: ClassVar[str] = "Run again with --log-level DEBUG and report the output."

    def __init__(self, message: str, *, remediation: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.remediation = remediation or self.default_remediation
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        return {
            "error": type(self).__name__,
            "message": self.message,
            "remediation": self.remediation,
            "exit_code": int(self.exit_code),
            **({"details": self.details} if self.details else {}),
        }


class UsageError(DaglabError):
    exit_code = ExitCode.USAGE
    default_remediation = "See `daglab <command> --help` for the accepted flags."


class EnvironmentMissingError(DaglabError):
    exit_code = ExitCode.ENVIRONMENT
    default_remediation = "Run `daglab doctor` to see what is missing."


class RunFailedError(DaglabError):
    exit_code = ExitCode.RUN_FAILED
    default_remediation = "Open the run in the Dagster UI to see its logs."


class ConnectivityError(DaglabError):
    exit_code = ExitCode.CONNECTIVITY
    default_remediation = "Start the webserver with `dagster dev`, or check dagster.url/host/port."


class AuthenticationError(DaglabError):
    exit_code = ExitCode.AUTHENTICATION
    default_remediation = (
        "Set the token in the environment variable named by dagster.auth.token_env "
        "(default DAGSTER_GRAPHQL_TOKEN)."
    )


class ValidationError(DaglabError):
    exit_code = ExitCode.VALIDATION
    default_remediation = "Fix the value named above and run the command again."


class ConfigError(ValidationError):
    default_remediation = "Fix daglab.yaml (see `daglab config show`) or run `daglab doctor --fix`."


class TemplateError(ValidationError):
    default_remediation = "Check the template variables passed with --template-vars."


class ConflictError(DaglabError):
    exit_code = ExitCode.CONFLICT
    default_remediation = "Pass --force to overwrite, or choose another path or port."


def did_you_mean(name: str, known: Iterable[str], *, cutoff: float = 0.6) -> str:
    """``"; did you mean a, b?"`` with up to three close matches of ``name``, or ``""``."""
    import difflib

    close = difflib.get_close_matches(name, list(known), n=3, cutoff=cutoff)
    return f"; did you mean {', '.join(close)}?" if close else ""
