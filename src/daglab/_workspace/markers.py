"""daglab's marker comments: which entries of a workspace file daglab wrote, and its extra data.

dg.toml rejects unknown keys and workspace.yaml's schema is closed, so daglab marks its entries
with comments, which both formats ignore. An entry daglab wrote sits between two lines::

    # daglab:begin NAME
    ...the entry, in the file's own syntax...
    # daglab:end NAME

What dg.toml cannot express is kept as option comments inside such a block, so that
``daglab workspace export`` can write it into a workspace.yaml:

- ``# daglab:grpc host=HOST port=PORT``: a gRPC code server (the block holds no TOML entry);
- ``# daglab:executable PATH``: the interpreter of the project entry in the same block.

Everything outside blocks belongs to the user and is never changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from daglab._errors import ValidationError

BEGIN = re.compile(r"^[ \t]*# daglab:begin (?P<name>\S+)[ \t]*$")
END = re.compile(r"^[ \t]*# daglab:end (?P<name>\S+)[ \t]*$")
OPTION = re.compile(r"^[ \t]*# daglab:(?P<key>grpc|executable)[ \t]+(?P<value>\S.*?)[ \t]*$")

#: Names daglab writes into markers and location names: Dagster's own rule for a location name
#: is looser, but these survive every file format, shell and URL unquoted.
NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}$")


@dataclass(frozen=True)
class Block:
    """One marked entry: its name and the index of its begin and end lines (inclusive)."""

    name: str
    start: int
    end: int
    options: tuple[tuple[str, str], ...] = ()

    def contains(self, line: int) -> bool:
        return self.start < line < self.end

    def option(self, key: str) -> str | None:
        return next((value for k, value in self.options if k == key), None)


@dataclass(frozen=True)
class Markers:
    """The blocks of a file, and the marker lines that do not pair up (reported by validate)."""

    blocks: tuple[Block, ...]
    stray: tuple[int, ...] = ()

    def block_of(self, line: int) -> Block | None:
        return next((block for block in self.blocks if block.contains(line)), None)

    def named(self, name: str) -> Block | None:
        return next((block for block in self.blocks if block.name == name), None)


def check_location_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise ValidationError(
            f"{name!r} is not a location name daglab writes",
            remediation="Use letters, digits, '_', '-' and '.', starting with a letter or digit.",
            name=name,
        )
    return name


def scan(lines: list[str]) -> Markers:
    """Pair ``begin``/``end`` lines; a begin without its end (or nested) is stray, not a block."""
    blocks: list[Block] = []
    stray: list[int] = []
    open_at: int | None = None
    open_name = ""
    options: list[tuple[str, str]] = []
    for index, line in enumerate(lines):
        begin = BEGIN.match(line)
        end = END.match(line)
        if begin:
            if open_at is not None:
                stray.append(open_at)
            open_at, open_name, options = index, begin["name"], []
        elif end:
            if open_at is not None and end["name"] == open_name:
                blocks.append(Block(open_name, open_at, index, tuple(options)))
            else:
                stray.append(index)
                if open_at is not None:
                    stray.append(open_at)
            open_at = None
        elif open_at is not None:
            option = OPTION.match(line)
            if option:
                options.append((option["key"], option["value"]))
    if open_at is not None:
        stray.append(open_at)
    return Markers(tuple(blocks), tuple(sorted(stray)))


def parse_grpc(value: str) -> tuple[str, int]:
    """``host=H port=P`` of a ``# daglab:grpc`` line."""
    fields = dict(part.split("=", 1) for part in value.split() if "=" in part)
    host = fields.get("host", "localhost")
    try:
        port = int(fields.get("port", ""))
    except ValueError:
        port = 0
    return host, port


def grpc_line(host: str, port: int) -> str:
    return f"# daglab:grpc host={host} port={port}"


def executable_line(path: str) -> str:
    return f"# daglab:executable {path}"
