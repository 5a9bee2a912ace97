"""Deploy files: a Dockerfile that copies or mounts a ``uv.lock`` that is not there, and a
``dagster_cloud.yaml`` location whose container context is empty or all commented out."""

from __future__ import annotations

import re
import shlex
from typing import Any

from daglab._audit.context import AuditContext, fail, load_yaml, ok, read_text
from daglab._report import Check

_MOUNT_SOURCE = re.compile(r"--mount=(\S+)")


def check_deploy(ctx: AuditContext) -> list[Check]:
    return [_check_lockfiles(ctx), *_check_container_contexts(ctx)]


def _instructions(text: str) -> list[tuple[int, str]]:
    """Each Dockerfile instruction with its first line number, continuation lines joined."""
    out: list[tuple[int, str]] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if not current:
            start = number
        if stripped.endswith("\\"):
            current.append(stripped[:-1])
            continue
        current.append(stripped)
        out.append((start, " ".join(current)))
        current = []
    if current:
        out.append((start, " ".join(current)))
    return out


def lockfile_sources(text: str) -> list[tuple[int, str]]:
    """``(line, source)`` of every ``uv.lock`` a Dockerfile COPYs/ADDs or bind-mounts from the
    build context (wildcards such as ``uv.lock*`` are optional by design and left out)."""
    found = []
    for line, instruction in _instructions(text):
        keyword, _, body = instruction.partition(" ")
        keyword = keyword.upper()
        body = body.strip()
        if keyword in ("COPY", "ADD"):
            flags = []
            while body.startswith("--"):
                flag, _, body = body.partition(" ")
                flags.append(flag)
                body = body.lstrip()
            if any(flag.startswith("--from") for flag in flags):
                continue  # from another stage or image, not the build context
            found += [(line, s) for s in _arguments(body)[:-1] if s.rstrip("/").endswith("uv.lock")]
        if keyword == "RUN":
            for spec in _MOUNT_SOURCE.findall(instruction):
                fields = dict(part.partition("=")[::2] for part in spec.split(",") if "=" in part)
                if fields.get("type", "bind") != "bind" or "from" in fields:
                    continue
                source = fields.get("source") or fields.get("src")
                if source and source.endswith("uv.lock"):
                    found.append((line, source))
    return [(line, s) for line, s in found if "*" not in s and "?" not in s]


def _arguments(body: str) -> list[str]:
    """An instruction's arguments, in exec form (``["a", "b"]``) or shell form."""
    if body.startswith("["):
        import json

        try:
            parsed = json.loads(body)
            return [str(a) for a in parsed] if isinstance(parsed, list) else []
        except ValueError:
            return body.strip("[]").replace(",", " ").replace('"', "").split()
    try:
        return shlex.split(body)
    except ValueError:
        return body.split()


def _check_lockfiles(ctx: AuditContext) -> Check:
    missing = []
    seen = 0
    for dockerfile in ctx.dockerfiles():
        for line, source in lockfile_sources(read_text(dockerfile) or ""):
            seen += 1
            # the build context is the Dockerfile's folder (dagster_cloud.yaml's build directory
            # and `docker build .` next to it); an absolute source is relative to it too
            target = (dockerfile.parent / source.lstrip("/")).resolve()
            if not target.is_file():
                missing.append((dockerfile, line, source))
    if missing:
        where = "; ".join(f"{ctx.rel(d)}:{line} uses {s}" for d, line, s in missing)
        folders = sorted({ctx.rel(d.parent) for d, _, _ in missing})
        return fail(
            "deploy:uv_lock",
            f"{where}, which does not exist in the build context",
            f"Run `uv lock` in {', '.join(folders)} and commit uv.lock, or drop the uv.lock"
            " line from the Dockerfile (or write `uv.lock*` to make it optional).",
            missing=[
                {"dockerfile": ctx.rel(d), "line": line, "source": s} for d, line, s in missing
            ],
        )
    return ok(
        "deploy:uv_lock",
        f"{seen} uv.lock reference(s) in Dockerfiles, each present"
        if seen
        else "no Dockerfile uses a uv.lock",
    )


def _empty(value: Any) -> bool:
    """Nothing but empty keys: what ``container_context:`` with every line commented parses to."""
    if isinstance(value, dict):
        return all(_empty(v) for v in value.values())
    if isinstance(value, list):
        return all(_empty(v) for v in value)
    return value is None or value == ""


def _check_container_contexts(ctx: AuditContext) -> list[Check]:
    checks = []
    for path in ctx.named("dagster_cloud.yaml", "dagster_cloud.yml"):
        where = ctx.rel(path)
        data = load_yaml(path)
        if not isinstance(data, dict):
            checks.append(
                fail(
                    f"deploy:container_context:{where}",
                    f"{where} is not a YAML mapping with `locations:`",
                    "Regenerate it with `daglab deploy configure --strategy plus-hybrid`"
                    " (or plus-serverless).",
                )
            )
            continue
        entries = data.get("locations")
        empty = [
            str(entry.get("location_name", "?"))
            for entry in (entries if isinstance(entries, list) else [])
            if isinstance(entry, dict)
            and "container_context" in entry
            and _empty(entry["container_context"])
        ]
        name = f"deploy:container_context:{where}"
        if empty:
            checks.append(
                fail(
                    name,
                    f"{where}: the container_context of {', '.join(empty)} is empty or all"
                    " commented out (the location runs without the env vars, secrets or"
                    " resources it was meant to get)",
                    "Fill in the container context (e.g. env_vars with the names the module"
                    " needs, as `daglab deploy configure` writes them) or delete the"
                    " `container_context:` key.",
                    locations=empty,
                )
            )
        else:
            checks.append(ok(name, f"{where}: every container_context has content"))
    return checks
