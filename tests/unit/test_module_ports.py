"""Code-server ports: explicit, auto, and never another module's."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from daglab._errors import ConflictError, ValidationError
from daglab._modules.ports import FIRST_AUTO_PORT, choose_port, parse_port, used_ports


def module(folder: Path, name: str, port: int) -> Path:
    folder.mkdir()
    (folder / "pyproject.toml").write_text(
        f'[tool.daglab.module]\nname = "{name}"\ntemplate = "minimal"\nport = {port}\n'
    )
    return folder


def test_used_ports_from_modules_and_grpc(tmp_path: Path) -> None:
    a = module(tmp_path / "a", "a", 4000)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "pyproject.toml").write_text('[tool.daglab.module]\ntemplate = "nope"\n')
    used = used_ports([a, broken, tmp_path / "missing"], grpc=[4005])
    assert set(used) == {4000, 4005}
    assert "module a" in used[4000]


def test_auto_skips_used_and_busy_ports() -> None:
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            busy.bind(("127.0.0.1", FIRST_AUTO_PORT + 1))
        except OSError:
            pytest.skip("the port is taken on this machine already")
        busy.listen()
        port = choose_port(None, {FIRST_AUTO_PORT: "module a"})
    assert port >= FIRST_AUTO_PORT + 2


def test_explicit_port_of_another_module_is_a_conflict() -> None:
    with pytest.raises(ConflictError, match="module a"):
        choose_port(4000, {4000: "module a"})
    assert choose_port(4000, {4000: "module a"}, keep=4000) == 4000
    assert choose_port(None, {}, keep=4123) == 4123


@pytest.mark.parametrize(("text", "port"), [("auto", None), ("AUTO", None), ("4001", 4001)])
def test_parse_port(text: str, port: int | None) -> None:
    assert parse_port(text) == port


@pytest.mark.parametrize("text", ["0", "65536", "-1", "x", "40 01", ""])
def test_parse_port_refuses(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_port(text)
