"""The whole loop, as a user does it, in a real browser.

``daglab init --bootstrap`` → ``daglab scaffold`` → ``daglab dev --no-open``; headless Chromium
(Debian's ``/usr/bin/chromium`` driven by Playwright, never a downloaded browser) opens the
marimo editor, presses the notebook's **Launch in Dagster** button and sees the run reach
SUCCESS with its link; ``daglab export --attach`` then records the HTML on the asset, visible
through Dagster's GraphQL; Ctrl-C leaves nothing running. Screenshots go to
``tests/e2e/screenshots/`` (ignored by git; the README shows one).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.conftest import run_daglab

CHROMIUM = os.environ.get("DAGLAB_CHROMIUM", "/usr/bin/chromium")
DAGLAB = str(Path(sys.executable).parent / "daglab")
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
READY_MARK = "both UIs are up"
ASSET = "raw_orders"

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def graphql(url: str, query: str) -> dict[str, object]:
    answer = httpx.post(f"{url}/graphql", json={"query": query}, timeout=30)
    body: dict[str, object] = answer.json()
    return body


def alive(proc: psutil.Process) -> bool:
    with contextlib.suppress(psutil.Error):
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    return False


def members(*, sids: set[int], pgids: set[int]) -> list[psutil.Process]:
    """Live processes in any of these sessions or process groups."""
    found = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue
            if os.getsid(proc.pid) in sids or os.getpgid(proc.pid) in pgids:
                found.append(proc)
    return found


def tree_of(pid: int) -> tuple[list[psutil.Process], set[int], set[int]]:
    """Every descendant of ``pid``, and the sessions and process groups they run in.

    Each UI ``daglab dev`` starts leads a session of its own (and marimo's kernel another), so
    counting the supervisor's session alone would miss exactly the processes that could survive.
    """
    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    sids: set[int] = set()
    pgids: set[int] = set()
    for proc in procs:
        with contextlib.suppress(psutil.Error, OSError):
            sids.add(os.getsid(proc.pid))
            pgids.add(os.getpgid(proc.pid))
    return procs, sids, pgids


@contextlib.contextmanager
def daglab_dev(
    root: Path, notebook: Path, env: dict[str, str]
) -> Iterator[subprocess.Popen[bytes]]:
    out = (root / "dev.log").open("wb")
    proc = subprocess.Popen(
        [DAGLAB, "dev", "--no-open", "--ci", "--notebook", str(notebook)],
        cwd=root,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield proc
    finally:
        out.close()
        if proc.poll() is None:  # the test failed half-way: leave nothing behind either
            tree = psutil.Process(proc.pid).children(recursive=True)
            os.killpg(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=40)
            for leftover in tree:
                with contextlib.suppress(psutil.Error):
                    leftover.kill()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def wait_for(predicate: object, what: str, log: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.5)
    pytest.fail(f"{what} did not happen within {timeout} s:\n{log.read_text()[-4000:]}")


def test_init_scaffold_dev_launch_in_the_browser_export_attach(tmp_path: Path) -> None:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (.ci/run does)")
    from playwright.sync_api import expect, sync_playwright

    SCREENSHOTS.mkdir(exist_ok=True)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    dagster_port, marimo_port = free_port(), free_port()
    made = run_daglab(
        "init",
        "--bootstrap",
        "shop",
        "--template",
        "standard",
        "--package-name",
        "shop",
        "--ports",
        f"dagster={dagster_port},marimo={marimo_port}",
        cwd=tmp_path,
        timeout=300,
    )
    assert made.exit_code == 0, made
    root = tmp_path / "shop"
    home = root / ".dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "PYTHONUNBUFFERED": "1",
        "NO_COLOR": "1",
    }
    scaffolded = run_daglab("scaffold", "--asset", ASSET, "--json", cwd=root, env=env, timeout=300)
    assert scaffolded.exit_code == 0, scaffolded
    notebook = Path(json.loads(scaffolded.stdout)["path"])
    assert notebook == root / "src" / "shop" / "notebooks" / "assets" / f"{ASSET}_explore.py"

    log = root / "dev.log"
    dagster = f"http://127.0.0.1:{dagster_port}"
    with daglab_dev(root, notebook, env) as dev:
        wait_for(lambda: READY_MARK in log.read_text(errors="replace"), "daglab dev ready", log)
        match = re.search(r"(http://127\.0\.0\.1:\d+/\?access_token=[\w\-]+)", log.read_text())
        assert match, log.read_text()
        editor_url = match.group(1)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(editor_url)
            # marimo does not run a notebook on open unless its operator chose so
            # (runtime.auto_instantiate): press "Run all", as a person would.
            run_all = page.locator(
                '[data-testid="chrome-controls-bottom-right"] [data-testid="run-button"]'
            )
            connected = page.get_by_text("Connected to Dagster").first
            expect(page.locator('[data-testid="cell-editor"]').first).to_be_visible(timeout=120_000)
            for _ in range(8):  # the first press may land before the kernel is attached
                run_all.click(timeout=60_000)
                with contextlib.suppress(AssertionError):
                    expect(connected).to_be_visible(timeout=30_000)
                    break
            expect(connected).to_be_visible(timeout=60_000)
            expect(page.get_by_text("Run config is valid").first).to_be_visible(timeout=60_000)
            connected.scroll_into_view_if_needed()
            page.mouse.wheel(0, -120)
            page.screenshot(path=str(SCREENSHOTS / "1-notebook-connected.png"))

            launch = page.get_by_role("button", name="Launch in Dagster")
            launch.scroll_into_view_if_needed()
            launch.click()
            success = page.get_by_text(re.compile(r"is SUCCESS"))
            expect(success.first).to_be_visible(timeout=240_000)
            link = page.locator(f'a[href^="{dagster}/runs/"]').first
            run_id = (link.get_attribute("href") or "").rsplit("/", 1)[-1]
            success.first.scroll_into_view_if_needed()
            page.screenshot(path=str(SCREENSHOTS / "2-run-succeeded.png"))

            run = graphql(
                dagster,
                f'{{ runOrError(runId: "{run_id}") {{ ... on Run {{ status'
                " tags { key value } } } }",
            )["data"]["runOrError"]  # type: ignore[index]
            assert run["status"] == "SUCCESS"  # type: ignore[index]
            tags = {t["key"]: t["value"] for t in run["tags"]}  # type: ignore[index]
            assert tags["daglab/launched-by"] == "notebook"
            assert tags["daglab/notebook"] == f"{ASSET}_explore"

            exported = run_daglab(
                "export",
                "--notebook",
                str(notebook),
                "--attach",
                f"asset://{ASSET}",
                "--json",
                cwd=root,
                env=env,
                timeout=600,
            )
            assert exported.exit_code == 0, exported
            report = json.loads(exported.stdout)
            html = Path(report["export"]["path"])
            raw = html.read_bytes()
            text = (gzip.decompress(raw) if html.suffix == ".gz" else raw).decode()
            assert "<html" in text[:2000].lower()
            assert report["attached"][0]["asset"] == ASSET
            observation = graphql(
                dagster,
                f'{{ assetOrError(assetKey: {{path: ["{ASSET}"]}}) {{ ... on Asset {{'
                " assetObservations(limit: 1) { metadataEntries { label"
                " ... on TextMetadataEntry { text } ... on PathMetadataEntry { path }"
                " ... on UrlMetadataEntry { url } } } } } }",
            )["data"]["assetOrError"]["assetObservations"]  # type: ignore[index]
            entries = {e["label"]: e for e in observation[0]["metadataEntries"]}  # type: ignore[index]
            shown = json.dumps(entries["exploration"])
            assert html.name in shown, entries

            page.goto(f"{dagster}/assets/{ASSET}?view=events")
            with contextlib.suppress(Exception):  # Dagster's first-visit newsletter dialog
                page.get_by_role("button", name="Skip").click(timeout=10_000)
            expect(page.get_by_text("exploration").first).to_be_visible(timeout=60_000)
            page.screenshot(path=str(SCREENSHOTS / "3-dagster-asset-metadata.png"))
            browser.close()

        procs, sids, pgids = tree_of(dev.pid)
        commands = " ".join(" ".join(p.cmdline()) for p in procs[1:] if alive(p))
        assert "dagster" in commands and "marimo" in commands, commands
        assert len(sids) >= 3, f"each UI should lead a session of its own: {sids}"
        dev.send_signal(signal.SIGINT)
        assert dev.wait(timeout=90) == 0, log.read_text()[-3000:]
        deadline = time.monotonic() + 15
        left = [p for p in procs if alive(p)] + members(sids=sids, pgids=pgids)
        while left and time.monotonic() < deadline:
            time.sleep(0.3)
            left = [p for p in procs if alive(p)] + members(sids=sids, pgids=pgids)
        described = [f"{p.pid} {' '.join(p.cmdline())[:120]}" for p in left if alive(p)]
        assert not left, f"processes left after Ctrl-C: {described}"
    shutil.rmtree(root / ".dagster_home", ignore_errors=True)
