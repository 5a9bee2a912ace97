"""The reference pages, generated from daglab's own code each time the site is built.

A page asks for a generated section with a marker on a line of its own:

    <!-- daglab:commands -->       every command, subcommand, flag and example of the Typer app
    <!-- daglab:config -->         every key of the config models: type, default, DAGLAB_* name
    <!-- daglab:config-layers -->  the sources of configuration, highest first (daglab._config)
    <!-- daglab:config-yaml -->    a daglab.yaml holding every default
    <!-- daglab:exit-codes -->     the exception tree of daglab._errors and its exit codes
    <!-- daglab:helpers -->        daglab.helpers.__all__ with signatures and docstrings
    <!-- daglab:package -->        daglab.__all__

Nothing here is copied from the code by hand, so the pages cannot drift from it; an unknown
marker fails the build.
"""

from __future__ import annotations

import ast
import functools
import inspect
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

MARKER = re.compile(r"^<!-- daglab:([a-z-]+) -->$", re.MULTILINE)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any, **kwargs: Any) -> str:
    """mkdocs hook: replace each marker with the section it names."""

    def expand(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in SECTIONS:
            raise ValueError(f"{page.file.src_uri}: unknown reference section {name!r}")
        return SECTIONS[name]()

    return MARKER.sub(expand, markdown)


# --- text -------------------------------------------------------------------------------------

_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
_RICH_TAG = re.compile(r"\[([a-z][a-z ]*)\](.*?)\[/[a-z ]*\]", re.DOTALL)


def _escape(text: str, *, table: bool = False) -> str:
    """Markdown-safe text: code spans kept, ``*``, ``<`` and ``[`` outside them escaped."""
    out: list[str] = []
    last = 0
    for match in _CODE_SPAN.finditer(text):
        out.append(_escape_plain(text[last : match.start()], table))
        span = match.group(0)
        out.append(span.replace("|", "\\|") if table else span)
        last = match.end()
    out.append(_escape_plain(text[last:], table))
    return "".join(out)


def _escape_plain(text: str, table: bool) -> str:
    text = text.replace("\\", "\\\\")
    for char in "*<>[]_":
        text = text.replace(char, "\\" + char)
    return text.replace("|", "\\|") if table else text


def _rich(text: str, *, table: bool = False) -> str:
    """Help text written in Rich markup (Typer's ``rich_markup_mode``) as Markdown."""
    text = text.replace("\\[", "\x00")  # Rich's escaped bracket is a literal one
    pieces: list[str] = []
    last = 0
    for match in _RICH_TAG.finditer(text):
        pieces.append(_escape(text[last : match.start()].replace("\x00", "["), table=table))
        style = match.group(1).split()
        raw = match.group(2).replace("\x00", "[")
        if "cyan" in style:  # daglab's help marks commands and paths in cyan
            pieces.append(_code(raw).replace("|", "\\|") if table else _code(raw))
        elif "bold" in style or "b" in style:
            pieces.append(f"**{_escape(raw, table=table)}**")
        elif "italic" in style or "i" in style:
            pieces.append(f"*{_escape(raw, table=table)}*")
        else:
            pieces.append(_escape(raw, table=table))
        last = match.end()
    pieces.append(_escape(text[last:].replace("\x00", "["), table=table))
    return "".join(pieces)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _code(text: str) -> str:
    """``text`` as one inline code span, whatever backticks it holds."""
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _docstring(doc: str | None) -> str:
    """A reST/Google-style docstring as Markdown: ``code``, roles, Args sections, code blocks."""
    if not doc:
        return ""
    doc = inspect.cleandoc(doc)
    doc = re.sub(r":[a-z]+:`~?([^`]+)`", lambda m: f"``{m.group(1).split('.')[-1]}``", doc)
    lines = doc.splitlines()
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if stripped.startswith(".. code-block::") or stripped.endswith("::"):
            lang = stripped.split("::")[-1].strip() or "python"
            if not stripped.startswith(".."):
                out.append(_text(stripped[:-1]))
            block, index = _indented(lines, index + 1)
            out += ["", f"```{lang}", *block, "```", ""]
            continue
        if stripped in ("Args:", "Arguments:", "Returns:", "Raises:", "Yields:", "Attributes:"):
            block, index = _indented(lines, index + 1)
            out += ["", f"**{stripped[:-1]}**", ""]
            out += _entries(block, named=stripped not in ("Returns:", "Yields:"))
            out.append("")
            continue
        out.append(_text(line))
        index += 1
    return "\n".join(out).strip() + "\n"


def _indented(lines: list[str], index: int) -> tuple[list[str], int]:
    """The indented block starting at ``index`` (blank lines inside it kept), dedented."""
    block: list[str] = []
    while index < len(lines) and (not lines[index].strip() or lines[index].startswith(" ")):
        block.append(lines[index])
        index += 1
    while block and not block[-1].strip():
        block.pop()
    while block and not block[0].strip():
        block.pop(0)
    text = inspect.cleandoc("\n".join(block)) if block else ""
    return text.splitlines(), index


def _entries(block: list[str], *, named: bool) -> list[str]:
    items: list[str] = []
    for line in block:
        if line.startswith(" ") and items:
            items[-1] += " " + line.strip()
        else:
            items.append(line.strip())
    out = []
    for item in items:
        name, sep, rest = item.partition(": ")
        if named and sep and " " not in name.strip():
            out.append(f"- {_code(name.strip())}: {_text(rest)}")
        else:
            out.append(f"- {_text(item)}")
    return out


def _text(line: str, *, table: bool = False) -> str:
    """One line of a docstring or ``#:`` comment: roles and ``x`` as code, the rest escaped."""
    line = re.sub(r":[a-z]+:`~?([^`]+)`", lambda m: f"``{m.group(1).split('.')[-1]}``", line)
    return _escape(line.replace("``", "`"), table=table)


# --- commands ---------------------------------------------------------------------------------


def _typer_command() -> Any:
    import typer.main

    from daglab._cli._app import app

    return typer.main.get_command(app)


def _walk(
    command: Any, path: list[str], parent: Any = None
) -> Iterator[tuple[list[str], Any, Any]]:
    ctx = command.context_class(command, info_name=path[-1], parent=parent)
    yield path, command, ctx
    if hasattr(command, "list_commands"):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from _walk(sub, [*path, name], ctx)


def command_names() -> list[str]:
    """Every command path, ``daglab``, ``daglab run``, ``daglab config show``…"""
    return [" ".join(path) for path, _, _ in _walk(_typer_command(), ["daglab"])]


def commands_markdown() -> str:
    root = _typer_command()
    out: list[str] = []
    entries = list(_walk(root, ["daglab"]))
    out += ["| command | what it does |", "|---|---|"]
    for path, command, _ in entries[1:]:
        name = " ".join(path)
        summary = _summary(command)
        out.append(f"| [{_code(name)}](#{_anchor(name)}) | {_rich(summary, table=True)} |")
    out.append("")
    for path, command, ctx in entries:
        out += _command_section(path, command, ctx)
    return "\n".join(out)


def _anchor(name: str) -> str:
    return name.replace(" ", "-")


def _summary(command: Any) -> str:
    if command.short_help:
        return str(command.short_help)
    return _one_line((command.help or "").split("\n\n")[0])


def _command_section(path: list[str], command: Any, ctx: Any) -> list[str]:
    name = " ".join(path)
    level = "#" * min(len(path) + 1, 4)
    out = [f"{level} {name} {{#{_anchor(name)}}}", ""]
    pieces = command.collect_usage_pieces(ctx)
    out += ["```text", " ".join([name, *pieces]), "```", ""]
    for paragraph in (command.help or "").split("\n\n"):
        if paragraph.strip():
            out += [_rich(_one_line(paragraph)), ""]
    params = [p for p in command.get_params(ctx) if not getattr(p, "hidden", False)]
    arguments = [p for p in params if p.param_type_name == "argument"]
    options = [p for p in params if p.param_type_name == "option"]
    if arguments:
        out += ["**Arguments**", "", "| argument | description |", "|---|---|"]
        for param in arguments:
            record = param.get_help_record(ctx)
            label = record[0] if record else (param.metavar or param.name.upper())
            text = _one_line(getattr(param, "help", "") or "")
            required = " (required)" if param.required else ""
            out.append(f"| {_code(label)} | {_rich(text, table=True)}{required} |")
        out.append("")
    if options:
        out += ["**Options**", "", "| option | value | description |", "|---|---|---|"]
        for param in options:
            out.append(_option_row(param, ctx))
        out.append("")
    if command.epilog:
        out += _epilog(command.epilog)
    if hasattr(command, "list_commands"):
        subs = [n for n in command.list_commands(ctx) if not command.get_command(ctx, n).hidden]
        if subs:
            links = ", ".join(
                f"[{_code(name + ' ' + s)}](#{_anchor(name + ' ' + s)})" for s in subs
            )
            out += [f"**Commands**: {links}", ""]
    return out


def _option_row(param: Any, ctx: Any) -> str:
    names = [*param.opts, *param.secondary_opts]
    longs = [n for n in names if n.startswith("--")]
    shorts = [n for n in names if not n.startswith("--")]
    label = " / ".join(_code(n) for n in longs + shorts)
    record = param.get_help_record(ctx)
    value = ""
    if record and not param.is_flag:
        decl = record[0]
        for opt in sorted(names, key=len, reverse=True):
            decl = decl.replace(opt, "")
        value = decl.strip(" ,/")
    if param.is_flag:
        value = "flag"
    help_text = _one_line(getattr(param, "help", "") or "")
    default = _default(param)
    if default:
        help_text = f"{help_text} Default: {default}." if help_text else f"Default: {default}."
    if param.required:
        help_text += " Required."
    value_cell = _code(value) if value and value != "flag" else value
    return f"| {label} | {value_cell} | {_rich(help_text, table=True)} |"


def _default(param: Any) -> str:
    if param.is_flag and param.secondary_opts and isinstance(param.default, bool):
        return _code(param.opts[0] if param.default else param.secondary_opts[0])
    if not getattr(param, "show_default", None) or (param.is_flag and param.default is False):
        return ""
    if param.default is None or callable(param.default):
        return ""
    if isinstance(param.show_default, str):
        return param.show_default
    value = param.default
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) if value else ""
    return f"`{value}`"


def _epilog(epilog: str) -> list[str]:
    """Examples (indented ``daglab …`` lines) as a shell block; the other paragraphs as text."""
    out: list[str] = []
    examples: list[tuple[str, str]] = []

    def flush() -> None:
        if not examples:
            return
        width = (
            max(len(cmd) for cmd, note in examples if note) if any(n for _, n in examples) else 0
        )
        out.append("```bash")
        for cmd, note in examples:
            out.append(f"{cmd.ljust(width)}  # {note}" if note else cmd)
        out.extend(["```", ""])
        examples.clear()

    for paragraph in epilog.split("\n\n"):
        lines = [line for line in paragraph.splitlines() if line.strip()]
        if not lines:
            continue
        if all(line.startswith("  ") for line in lines):
            for line in lines:
                cmd, _, note = re.sub(r"\s{2,}", "\0", line.strip(), count=1).partition("\0")
                examples.append((cmd.replace("\\[", "["), _one_line(note.replace("\\[", "["))))
            continue
        flush()
        text = _one_line(paragraph)
        if re.fullmatch(r"\[bold\]Examples\[/\]:?", text):
            out += ["**Examples**", ""]
            continue
        out += [_rich(text), ""]
    flush()
    return out


# --- configuration ----------------------------------------------------------------------------


def _field_comments(model: type) -> dict[str, str]:
    """The ``#:`` comments written just above each field of ``model``."""
    return _module_field_comments(model.__module__).get(model.__qualname__, {})


@functools.cache
def _module_field_comments(module_name: str) -> dict[str, dict[str, str]]:
    """``{class: {field: comment}}`` for every class of the module, from one parse of its file."""
    import sys

    path = getattr(sys.modules[module_name], "__file__", None)
    if not path:
        return {}
    source = Path(path).read_text(encoding="utf-8")
    lines = source.splitlines()
    found: dict[str, dict[str, str]] = {}
    for node in ast.parse(source).body:
        if not isinstance(node, ast.ClassDef):
            continue
        comments = found.setdefault(node.name, {})
        for item in node.body:
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                above: list[str] = []
                row = item.lineno - 2
                while row >= 0 and lines[row].strip().startswith("#:"):
                    above.insert(0, lines[row].strip()[2:].strip())
                    row -= 1
                if above:
                    comments[item.target.id] = " ".join(above)
    return found


@functools.cache
def config_fields() -> list[dict[str, Any]]:
    """Every leaf key of :class:`DaglabConfig` with its type, default, bounds and env var."""
    from pydantic import BaseModel

    from daglab._config import ENV_NESTED_DELIMITER, ENV_PREFIX
    from daglab._config_models import DaglabConfig

    defaults = DaglabConfig().model_dump(mode="json")
    rows: list[dict[str, Any]] = []

    def visit(model: type[BaseModel], prefix: tuple[str, ...], values: dict[str, Any]) -> None:
        comments = _field_comments(model)
        nested: list[tuple[str, Any]] = []
        for name, info in model.model_fields.items():
            annotation = info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                nested.append((name, annotation))
                continue
            path = (*prefix, name)
            rows.append(
                {
                    "key": ".".join(path),
                    "section": ".".join(prefix),
                    "type": _type_name(annotation),
                    "default": values.get(name),
                    "bounds": _bounds(info.metadata),
                    "env": ENV_PREFIX + ENV_NESTED_DELIMITER.join(p.upper() for p in path),
                    "description": comments.get(name, ""),
                }
            )
        for name, annotation in nested:
            visit(annotation, (*prefix, name), values.get(name) or {})

    visit(DaglabConfig, (), defaults)
    return rows


def _type_name(annotation: Any) -> str:
    import enum
    import types
    import typing

    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " \\| ".join(
            f'`"{v}"`' if isinstance(v, str) else f"`{v}`" for v in typing.get_args(annotation)
        )
    if origin in (typing.Union, types.UnionType):
        parts = [_type_name(a) for a in typing.get_args(annotation) if a is not type(None)]
        nullable = type(None) in typing.get_args(annotation)
        return " \\| ".join(parts + (["`null`"] if nullable else []))
    if origin in (list, tuple, set, frozenset):
        (item,) = typing.get_args(annotation)[:1] or (Any,)
        return f"list of {_type_name(item)}"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return " \\| ".join(f'`"{m.value}"`' for m in annotation)
    names = {str: "string", int: "integer", float: "number", bool: "boolean"}
    if annotation in names:
        return names[annotation]
    if getattr(annotation, "__name__", "") == "SafeUrl":
        return "URL (credentials never shown)"
    return _code(getattr(annotation, "__name__", str(annotation)))


def _bounds(metadata: list[Any]) -> str:
    symbols = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<", "min_length": "length ≥"}
    parts = []
    for item in metadata:
        for attr, symbol in symbols.items():
            value = getattr(item, attr, None)
            if value is not None:
                parts.append(f"{symbol} {value}")
    return ", ".join(parts)


def _flags_by_key() -> dict[str, dict[str, list[str]]]:
    """Per config key, the flags whose help says they override it or default to it.

    Help texts say so as ``(overrides dagster.port)`` or ``(default: export.compress)``; the
    answer is ``{key: {flag: [command, ...]}}``.
    """
    keys = sorted((row["key"] for row in config_fields()), key=len, reverse=True)
    found: dict[str, dict[str, list[str]]] = {}
    for path, command, ctx in _walk(_typer_command(), ["daglab"]):
        for param in command.get_params(ctx):
            text = getattr(param, "help", "") or ""
            for key in keys:
                pattern = rf"(?:overrides|default:?)\s+{re.escape(key)}(?![\w.])"
                if param.opts and re.search(pattern, text):
                    commands = found.setdefault(key, {}).setdefault(param.opts[0], [])
                    commands.append(" ".join(path[1:]) or "daglab")
    return found


def config_markdown() -> str:
    import json

    rows = config_fields()
    flags = _flags_by_key()
    out: list[str] = []
    section = None
    for row in rows:
        if row["section"] != section:
            section = row["section"]
            title = f"`{section}`" if section else "Top level"
            out += [
                "",
                f"### {title}",
                "",
                "| key and environment variable | type | default | notes |",
            ]
            out.append("|---|---|---|---|")
        notes: list[str] = []
        if row["description"]:
            text = _text(row["description"], table=True)
            notes.append(text if text.endswith(".") else text + ".")
        if row["bounds"]:
            notes.append(f"Allowed: {_escape(row['bounds'], table=True)}.")
        for flag, commands in flags.get(row["key"], {}).items():
            notes.append(f"Flag {_code(flag)} of {', '.join(commands)}.")
        default = _code(json.dumps(row["default"])).replace("|", "\\|")
        out.append(
            f"| {_code(row['key'])}<br>{_code(row['env'])} | {row['type']} | {default} | "
            f"{' '.join(notes)} |"
        )
    return "\n".join(out).strip() + "\n"


def config_layers_markdown() -> str:
    import daglab._config as module

    items = re.findall(r"^\s*(\d+)\.\s+(.+?)\s*$", module.__doc__ or "", re.MULTILINE)
    return "\n".join(f"{number}. {_text(_one_line(text))}" for number, text in items) + "\n"


def config_yaml_markdown() -> str:
    import yaml

    from daglab._config_models import DaglabConfig

    text = yaml.safe_dump(DaglabConfig().model_dump(mode="json"), sort_keys=False, width=100)
    return f"```yaml\n{text}```\n"


# --- exit codes -------------------------------------------------------------------------------


def error_classes() -> list[type]:
    import daglab._errors as module

    found: list[type] = []

    def visit(cls: type) -> None:
        if cls.__module__ == module.__name__:
            found.append(cls)
        for sub in cls.__subclasses__():
            visit(sub)

    visit(module.DaglabError)
    return found


def exit_codes_markdown() -> str:
    import json

    import daglab._errors as module

    doc = module.__doc__ or ""
    tree = [line for line in doc.splitlines() if re.match(r"^\s{4}\S", line)]
    meaning: dict[str, str] = {}
    for line in tree:
        match = re.search(r"(\w+)\s+(\(?\d+.*)$", line)
        if match:
            rest = match.group(2)
            if rest.startswith("(") and rest.endswith(")"):
                rest = rest[1:-1].replace(",", " ", 1)
            meaning[match.group(1)] = rest.split(None, 1)[1] if " " in rest else ""
    classes = error_classes()
    out = ["| code | name | meaning |", "|---|---|---|"]
    for code in module.ExitCode:
        errors = [cls for cls in classes if cls.exit_code == code]
        what = "success" if code == module.ExitCode.OK else ""
        what = what or next((meaning[c.__name__] for c in errors if c.__name__ in meaning), "")
        out.append(f"| {int(code)} | {_code(code.name)} | {_escape(what, table=True)} |")
    out += ["", "## Errors", "", "| error | exit code | meaning | what it suggests by default |"]
    out.append("|---|---|---|---|")
    for cls in classes:
        out.append(
            f"| {_code(cls.__name__)} | {int(cls.exit_code)} | "
            f"{_escape(meaning.get(cls.__name__, ''), table=True)} | "
            f"{_text(cls.default_remediation, table=True)} |"
        )
    out += ["", "The tree, as `daglab._errors` draws it:", "", "```text"]
    out += [inspect.cleandoc("\n".join(tree))]
    out += ["```", ""]
    sample = module.ConflictError("notebooks/orders.html exists and daglab did not write it")
    out += ["With `--json`, an error is printed as one object:", "", "```json"]
    out += [json.dumps(sample.to_dict(), indent=2, ensure_ascii=False), "```", ""]
    return "\n".join(out)


# --- Python API -------------------------------------------------------------------------------


def _signature(name: str, obj: Any, *, wrap: bool = False) -> str:
    """``name(params) -> return`` as written in the source (annotations unquoted, no ``self``)."""
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return name

    def show(annotation: Any) -> str:
        if isinstance(annotation, str):
            return annotation
        return inspect.formatannotation(annotation)

    params: list[str] = []
    marker_done = False
    for index, param in enumerate(signature.parameters.values()):
        if index == 0 and param.name in ("self", "cls"):
            continue
        if param.kind is param.KEYWORD_ONLY and not marker_done:
            params.append("*")
            marker_done = True
        if param.kind is param.VAR_POSITIONAL:
            marker_done = True
        text = {param.VAR_POSITIONAL: "*", param.VAR_KEYWORD: "**"}.get(param.kind, "")
        text += param.name
        if param.annotation is not param.empty:
            text += f": {show(param.annotation)}"
        if param.default is not param.empty:
            default = "<factory>" if "factory" in repr(param.default) else repr(param.default)
            text += f" = {default}" if param.annotation is not param.empty else f"={default}"
        params.append(text)
    returns = ""
    if signature.return_annotation is not signature.empty and not inspect.isclass(obj):
        returns = f" -> {show(signature.return_annotation)}"
    one_line = f"{name}({', '.join(params)}){returns}"
    if not wrap or len(one_line) <= 88:
        return one_line
    inner = "".join(f"    {p},\n" for p in params)
    return f"{name}(\n{inner}){returns}"


def _members(cls: type) -> Iterator[tuple[str, Any]]:
    fields = set(getattr(cls, "__dataclass_fields__", {})) | set(getattr(cls, "model_fields", {}))
    for name, value in vars(cls).items():
        if name.startswith("_") or name in fields:
            continue
        if isinstance(value, (staticmethod, classmethod)):
            yield name, value.__func__
        elif isinstance(value, property) or inspect.isfunction(value):
            yield name, value


def _api_entry(qualified: str, name: str, obj: Any) -> list[str]:
    out = [f"### {name} {{#{name}}}", ""]
    if inspect.ismodule(obj):
        out += [_docstring(obj.__doc__), ""]
        functions = [
            (n, f)
            for n, f in vars(obj).items()
            if not n.startswith("_") and inspect.isfunction(f) and f.__module__ == obj.__name__
        ]
        out += [f"Functions of `{qualified}`:", ""]
        for fname, func in functions:
            first = _text(_one_line((inspect.getdoc(func) or "").split("\n\n")[0]))
            out.append(f"- {_code(_signature(fname, func))}" + (f": {first}" if first else ""))
        return [*out, ""]
    kind = "class" if inspect.isclass(obj) else "def"
    out += ["```python", f"{kind} {_signature(name, obj, wrap=True)}", "```", ""]
    out += [_docstring(inspect.getdoc(obj)), ""]
    if inspect.isclass(obj):
        members = list(_members(obj))
        if members:
            out += ["**Members**", ""]
            for mname, member in members:
                label = mname if isinstance(member, property) else _signature(mname, member)
                if inspect.iscoroutinefunction(member):
                    label = f"async {label}"
                doc = inspect.getdoc(member) or ""
                first = _text(_one_line(doc.split("\n\n")[0]))
                out.append(f"- {_code(label)}" + (f": {first}" if first else ""))
            out.append("")
    return out


def helpers_markdown() -> str:
    import daglab.helpers as helpers

    out: list[str] = []
    for name in helpers.__all__:
        out += _api_entry(f"daglab.helpers.{name}", name, getattr(helpers, name))
    return "\n".join(out)


def package_markdown() -> str:
    import daglab

    out = ["| name | what it is |", "|---|---|"]
    for name in daglab.__all__:
        obj = getattr(daglab, name)
        own = obj.__doc__ if inspect.isclass(obj) and "__doc__" in vars(obj) else None
        if own and own.startswith(f"{name}("):
            own = None  # the signature a dataclass writes when it has no docstring
        if isinstance(obj, str):
            doc = f"the installed version (`{obj}` when these pages were built)"
        elif isinstance(obj, type) and issubclass(obj, daglab.DaglabError) and not own:
            doc = f"error, exit code {int(obj.exit_code)} (see [Exit codes](exit-codes.md))"
        elif inspect.isclass(obj):
            doc = _text(_one_line((own or "").split("\n\n")[0]), table=True)
        else:
            doc = _text(_one_line((inspect.getdoc(obj) or "").split("\n\n")[0]), table=True)
        out.append(f"| `daglab.{name}` | {doc} |")
    return "\n".join(out) + "\n"


SECTIONS: dict[str, Callable[[], str]] = {
    "commands": commands_markdown,
    "config": config_markdown,
    "config-layers": config_layers_markdown,
    "config-yaml": config_yaml_markdown,
    "exit-codes": exit_codes_markdown,
    "helpers": helpers_markdown,
    "package": package_markdown,
}
