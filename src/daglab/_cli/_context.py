"""State shared by the CLI's commands through Typer's context object."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from daglab._config import LoadedConfig

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass
class CliState:
    """Global options, plus the configuration once a command has loaded it."""

    json_output: bool = False
    log_level: str | None = None
    loaded: LoadedConfig | None = None

    def set_log_level(self, value: str) -> None:
        from daglab._errors import UsageError

        level = value.upper()
        if level not in LOG_LEVELS:
            raise UsageError(
                f"--log-level {value!r} is not one of {', '.join(LOG_LEVELS)}",
                remediation="Use --log-level DEBUG, INFO, WARNING or ERROR.",
            )
        self.log_level = level

    @property
    def debug(self) -> bool:
        return self.log_level == "DEBUG"

    def load(
        self, *, start: Path | None = None, overrides: dict[str, Any] | None = None
    ) -> LoadedConfig:
        """Load configuration (CLI flags in ``overrides``) and set up logging from it."""
        from daglab._config import load_config
        from daglab._logging import get_logger, register_secrets_from_env, setup_logging

        self.loaded = load_config(start=start, overrides=overrides)
        cfg = self.loaded.config.logging
        setup_logging(
            console_level=self.log_level or "WARNING",
            file=self.loaded.log_file(),
            file_level=min_level(cfg.level, self.log_level),
            file_format=cfg.format,
            max_bytes=cfg.max_bytes,
            backup_count=cfg.backup_count,
        )
        register_secrets_from_env(os.environ, [self.loaded.config.dagster.auth.token_env])
        for warning in self.loaded.warnings:
            get_logger("config").warning("%s", warning)
        get_logger("cli").debug("configuration loaded from %d layer(s)", len(self.loaded.sources))
        return self.loaded


def min_level(configured: str, console: str | None) -> str:
    """The file logs at its configured level, or lower when the console asks for more."""
    if console and LOG_LEVELS.index(console) < LOG_LEVELS.index(configured):
        return console
    return configured
