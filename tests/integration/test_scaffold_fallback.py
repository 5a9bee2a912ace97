"""``daglab scaffold`` with the webserver down or hung falls back to the code within seconds, and
warns when git would ignore the notebook it wrote (real subprocesses, a real git repository)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from daglab._scaffold.webserver import PROBE_SECONDS
from tests.conftest import FIXTURES, run_daglab


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fallback") / "shop"
    shutil.copytree(FIXTURES / "multi_location_project", root)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


@pytest.fixture
def hung_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield sock.getsockname()[1]


def dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def scaffold(root: Path, port: int, asset: str, *more: str) -> tuple[float, dict]:
    env = {"DAGLAB_DAGSTER__HOST": "127.0.0.1", "DAGLAB_DAGSTER__PORT": str(port)}
    started = time.perf_counter()
    done = run_daglab("scaffold", "--asset", asset, "--json", *more, cwd=root, env=env)
    elapsed = time.perf_counter() - started
    assert done.exit_code == 0, done
    answer: dict = json.loads(done.stdout)
    assert answer["checked_against"] == "code"
    return elapsed, answer


def test_a_hung_webserver_costs_seconds_not_the_graphql_timeout(shop: Path, hung_port: int) -> None:
    down, _ = scaffold(shop, dead_port(), "shop/customers")
    hung, answer = scaffold(shop, hung_port, "shop/orders")
    assert answer["import"] == "from dagster_shop.assets.upstream import orders"
    # before: the check waited the whole GraphQL timeout (30 s) for a webserver that accepted
    # the connection and never answered; now the probe and the check each give up within 2 s
    assert hung - down < 4 * PROBE_SECONDS + 3, (down, hung)
    assert "not answering" in " ".join(answer["notes"])


def test_scaffold_warns_when_git_would_ignore_the_notebook(shop: Path) -> None:
    (shop / ".gitignore").write_text("*.log\nsrc/dagster_shop/notebooks/assets/\n")
    _, answer = scaffold(shop, dead_port(), "shop/customers", "--filename", "assets/c.py")
    (warning,) = answer["warnings"]
    assert "`src/dagster_shop/notebooks/assets/` at .gitignore:2" in warning
    assert "c.py" in warning
    (shop / ".gitignore").write_text("*.log\n")
    _, answer = scaffold(shop, dead_port(), "shop/customers", "--filename", "assets/d.py")
    assert answer["warnings"] == []
