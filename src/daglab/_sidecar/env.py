"""The environment ``daglab dev`` gives its children: dotenv files and ``DAGSTER_HOME``."""

from __future__ import annotations

import re
from pathlib import Path

from daglab._errors import EnvironmentMissingError, ValidationError

_ENV_LINE = re.compile(r"(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}


def parse_env_text(text: str, source: str = "<env>") -> dict[str, str]:
    """Dotenv lines: ``KEY=VALUE``, an optional ``export`` prefix, quotes and comments.

    Single quotes are literal; double quotes understand ``\\n \\t \\r \\" \\\\ \\$``; an
    unquoted value ends at `` #``. There is no ``${VAR}`` expansion. A line that is none of
    these is a validation error naming the file and line.
    """
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _ENV_LINE.fullmatch(line)
        if match is None:
            raise ValidationError(
                f"{source}:{number}: expected KEY=VALUE, got {raw.strip()[:60]!r}",
                remediation="Write one KEY=VALUE per line (optionally `export KEY=VALUE`).",
            )
        key, rest = match.group(1), match.group(2)
        values[key] = _env_value(rest, source, number)
    return values


def _env_value(rest: str, source: str, number: int) -> str:
    if rest[:1] in ("'", '"'):
        quote = rest[0]
        chars: list[str] = []
        index = 1
        while index < len(rest):
            char = rest[index]
            if quote == '"' and char == "\\" and index + 1 < len(rest):
                nxt = rest[index + 1]
                chars.append(_ESCAPES.get(nxt, "\\" + nxt))
                index += 2
                continue
            if char == quote:
                trailing = rest[index + 1 :].strip()
                if trailing and not trailing.startswith("#"):
                    raise ValidationError(
                        f"{source}:{number}: unexpected text after the closing quote:"
                        f" {trailing[:40]!r}",
                        remediation="Put a comment after ` #`, or quote the whole value.",
                    )
                return "".join(chars)
            chars.append(char)
            index += 1
        raise ValidationError(
            f"{source}:{number}: the {quote} quote is not closed",
            remediation="Close the quote on the same line; multi-line values are not supported.",
        )
    comment = re.search(r"\s#", rest)
    return (rest[: comment.start()] if comment else rest).strip()


def read_env_file(path: Path) -> dict[str, str]:
    """The variables of ``path``; a missing or unreadable file is a validation error (exit 7)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValidationError(
            f"--env-file {path} does not exist",
            remediation="Give the path of an existing dotenv file (KEY=VALUE lines).",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(
            f"--env-file {path} cannot be read: {exc}",
            remediation="Give a readable UTF-8 dotenv file.",
        ) from None
    return parse_env_text(text, str(path))


def dagster_home(env: dict[str, str], root: Path) -> tuple[str, str] | None:
    """Set ``DAGSTER_HOME`` in ``env`` if needed; return a (level, note) for the user, if any."""
    value = env.get("DAGSTER_HOME")
    if value:
        path = Path(value)
        if not path.is_absolute() or not path.is_dir():
            raise EnvironmentMissingError(
                f"DAGSTER_HOME={value} is not an existing absolute folder",
                remediation=f"mkdir -p {value} (an absolute path), or unset DAGSTER_HOME.",
            )
        return None
    local = root / ".dagster_home"
    if local.is_dir():
        env["DAGSTER_HOME"] = str(local.resolve())
        return ("info", f"DAGSTER_HOME={local} (the project's .dagster_home)")
    return (
        "warning",
        "DAGSTER_HOME is not set and the project has no .dagster_home folder: Dagster keeps runs"
        " in a temporary folder that is removed when it stops. Create .dagster_home (or set"
        " DAGSTER_HOME) to keep them.",
    )
