"""Installing daglab: a compatibility cell's environment built by uv against pip, the wheel, and
a tool install that talks to a running webserver without Dagster installed.

Prints seconds, sizes and ratios for:

- building the oldest cell's environment (daglab with its dev extra, Dagster 1.12.13, marimo
  0.23.6, bytecode compiled) with ``uv pip install`` against ``pip install``, from each tool's
  warm cache (the second of two builds is timed, so both read their caches);
- the wheel ``uv build`` makes: its size and file count;
- ``uv tool install`` of that wheel into an empty tool directory (and ``pipx install`` when
  pipx is on PATH), then ``daglab discover --url`` from that tool environment against a real
  ``dagster dev`` on loopback (the sample fixture project, served by this interpreter's Dagster);
  ``import dagster`` must fail in the tool environment and discover must list the project.

    python benchmarks/install.py [--python 3.10] [--skip-pip]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from client import START, free_port, wait_ready

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "sample_dagster_project"
CELL = (
    "dagster==1.12.13",
    "dagster-webserver==1.12.13",
    "dagster-dg-cli==1.12.13",
    "create-dagster==1.12.13",
    "marimo==0.23.6",
)


def run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    done: subprocess.CompletedProcess[str] = subprocess.run(  # type: ignore[call-overload]
        argv, capture_output=True, text=True, check=False, **kwargs
    )
    if done.returncode != 0:
        raise SystemExit(
            f"{' '.join(argv[:4])} ... failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}"
        )
    return done


def timed(argv: list[str], **kwargs: object) -> float:
    started = time.perf_counter()
    run(argv, **kwargs)
    return time.perf_counter() - started


def build_cell(uv: str, python: str, work: Path, *, with_pip: bool) -> dict[str, float]:
    """Seconds to build the cell's environment, by uv and (unless skipped) by pip."""
    requirements = ["-e", f"{ROOT}[dev]", *CELL]
    env = {**os.environ, "UV_COMPILE_BYTECODE": "1"}
    seconds: dict[str, float] = {}
    for attempt in range(2):  # the first fills the cache, the second is timed
        venv = work / f"uv-cell-{attempt}"
        run([uv, "venv", "--quiet", "--no-python-downloads", "--python", python, str(venv)])
        took = timed(
            [
                uv,
                "pip",
                "install",
                "--quiet",
                "--python",
                str(venv / "bin" / "python"),
                *requirements,
            ],
            env=env,
        )
        shutil.rmtree(venv)
    seconds["uv"] = took
    if with_pip:
        for attempt in range(2):
            venv = work / f"pip-cell-{attempt}"
            run(
                [
                    uv,
                    "venv",
                    "--quiet",
                    "--seed",
                    "--no-python-downloads",
                    "--python",
                    python,
                    str(venv),
                ]
            )
            pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
            took = timed([*pip, *requirements])  # pip compiles bytecode by default
            shutil.rmtree(venv)
        seconds["pip"] = took
    return seconds


def build_wheel(uv: str, work: Path) -> Path:
    out = work / "dist"
    run([uv, "build", "--wheel", "--quiet", "--out-dir", str(out), str(ROOT)])
    (wheel,) = out.glob("daglab-*.whl")
    return wheel


@contextlib.contextmanager
def dagster_dev(work: Path):  # type: ignore[no-untyped-def]
    """`dagster dev` on loopback serving a copy of the sample project; stopped by its pid."""
    project = Path(shutil.copytree(FIXTURE, work / "project"))
    home = work / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "DAGSTER_DISABLE_TELEMETRY": "1"}
    with (work / "dagster.log").open("wb") as log:
        server = subprocess.Popen(
            [
                sys.executable,
                "-c",
                START,
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-w",
                str(project / "workspace.yaml"),
            ],
            cwd=project,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url, server)
            yield url
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


def without_dagster(tool_python: Path, daglab: Path, url: str, work: Path) -> dict[str, object]:
    """`import dagster` fails in the tool environment; discover lists the served project."""
    probe = subprocess.run(
        [str(tool_python), "-c", "import dagster"], capture_output=True, text=True, check=False
    )
    assert probe.returncode != 0 and "ModuleNotFoundError" in probe.stderr, probe
    cwd = work / "elsewhere"
    (cwd / ".git").mkdir(parents=True, exist_ok=True)  # config discovery stops here
    started = time.perf_counter()
    done = run([str(daglab), "discover", "--url", url, "--json"], cwd=cwd)
    took = time.perf_counter() - started
    found = json.loads(done.stdout)
    text = json.dumps(found)
    assert "sample_location" in text and "daily_summary" in text, text[:2000]
    return {"import_dagster": "ModuleNotFoundError", "discover_s": took}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    pyenv = Path(os.environ.get("PYENV_ROOT") or "~/.pyenv").expanduser()
    found = sorted(pyenv.glob("versions/3.10*/bin/python"))
    parser.add_argument(
        "--python",
        default=str(found[-1]) if found else "3.10",
        help="interpreter for the cell: a path, or a version uv finds (default: pyenv's 3.10)",
    )
    parser.add_argument("--skip-pip", action="store_true", help="do not time pip's build")
    args = parser.parse_args()
    uv = shutil.which("uv")
    if uv is None:
        raise SystemExit("uv is not on PATH")
    work = Path(tempfile.mkdtemp(prefix="daglab-install-bench-"))
    try:
        load = os.getloadavg()[0]
        cores = os.cpu_count()
        print(f"python {args.python}; load average {load:.1f} on {cores} cores at the start")
        cell = build_cell(uv, args.python, work, with_pip=not args.skip_pip)
        print(f"cell environment, uv:  {cell['uv']:7.1f} s")
        if "pip" in cell:
            print(
                f"cell environment, pip: {cell['pip']:7.1f} s"
                f"  (pip/uv {cell['pip'] / cell['uv']:.1f}x)"
            )

        wheel = build_wheel(uv, work)
        with zipfile.ZipFile(wheel) as archive:
            files = len(archive.namelist())
        print(f"wheel {wheel.name}: {wheel.stat().st_size / 1024:.0f} KiB, {files} files")

        tools = {"UV_TOOL_DIR": str(work / "tools"), "UV_TOOL_BIN_DIR": str(work / "bin")}
        took = timed([uv, "tool", "install", "--quiet", str(wheel)], env={**os.environ, **tools})
        print(f"uv tool install (empty tool dir): {took:.1f} s")
        installs = [
            ("uv tool", work / "tools" / "daglab" / "bin" / "python", work / "bin" / "daglab")
        ]
        pipx = shutil.which("pipx")
        if pipx is None:
            print("pipx install: not measured (pipx is not on PATH)")
        else:
            pipx_env = {
                **os.environ,
                "PIPX_HOME": str(work / "pipx"),
                "PIPX_BIN_DIR": str(work / "pipx-bin"),
            }
            took = timed([pipx, "install", "--quiet", str(wheel)], env=pipx_env)
            print(f"pipx install (empty home): {took:.1f} s")
            venv = work / "pipx" / "venvs" / "daglab"
            installs.append(("pipx", venv / "bin" / "python", work / "pipx-bin" / "daglab"))

        with dagster_dev(work) as url:
            for name, tool_python, daglab in installs:
                seen = without_dagster(tool_python, daglab, url, work)
                print(
                    f"{name}: import dagster -> {seen['import_dagster']};"
                    f" daglab discover --url {url} -> ok in {seen['discover_s']:.2f} s"
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
