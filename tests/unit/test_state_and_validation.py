"""NotebookState, YAML run-config validation and input sanitising."""

from __future__ import annotations

import threading

import pytest

from daglab._errors import ValidationError
from daglab._state import NotebookState, manage_state
from daglab._validation import check_input, sanitize_input, validate_yaml_config


def test_state_updates_keep_a_history_and_reset_restores() -> None:
    state = manage_state({"run_ids": [], "last_config": None})
    state.update("last_config", {"a": 1})
    state.append("run_ids", "r1")
    state.append("run_ids", "r2")
    assert state["run_ids"] == ["r1", "r2"]
    assert [c.key for c in state.get_history()] == ["last_config", "run_ids", "run_ids"]
    assert state.history[-1].old == ["r1"] and state.history[-1].new == ["r1", "r2"]
    taken = state["run_ids"]
    taken.append("mutated outside")
    state.reset()
    assert state["run_ids"] == [] and state["last_config"] is None
    assert {c.key for c in state.history[-2:]} == {"run_ids", "last_config"}
    assert dict(state) == {"run_ids": [], "last_config": None}


def test_state_reset_drops_keys_added_later_and_history_is_bounded() -> None:
    state = NotebookState({"a": 1}, history_limit=5)
    for index in range(20):
        state.update("b", index)
    assert len(state.history) == 5 and state.history[-1].new == 19
    state.reset()
    assert dict(state) == {"a": 1}
    assert state.snapshot() == {"a": 1}


def test_state_is_safe_across_threads() -> None:
    state = manage_state({"items": []})

    def add(start: int) -> None:
        for index in range(200):
            state.append("items", start + index)

    threads = [threading.Thread(target=add, args=(n * 1000,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(state["items"]) == 800


@pytest.mark.parametrize(
    ("text", "ok", "line"),
    [
        ("ops:\n  multiply:\n    config:\n      multiplier: 2\n", True, None),
        ("", True, None),
        ("ops: [unclosed\n", False, 2),
        ("- a\n- b\n", False, None),
        ("!!python/object:os.system ls\n", False, 1),
    ],
)
def test_yaml_config_validation(text: str, ok: bool, line: int | None) -> None:
    check = validate_yaml_config(text)
    assert check.ok is ok
    assert check.line == line
    if ok:
        assert isinstance(check.config, dict)
    else:
        assert check.problem


def test_yaml_config_with_a_schema_check() -> None:
    def needs_ops(data: dict[str, object]) -> list[str]:
        return [] if "ops" in data else ["ops is required"]

    assert validate_yaml_config("ops: {}", needs_ops).ok
    check = validate_yaml_config("resources: {}", needs_ops)
    assert not check.ok and check.problem == "ops is required"


@pytest.mark.parametrize(
    ("text", "context", "expected"),
    [
        ("  my_job ", "name", "my_job"),
        ("/orders/daily-2/", "asset_key", "orders/daily-2"),
        ("orders/*, sales/[ab]?", "pattern", "orders/*, sales/[ab]?"),
        ("line\x00one\nline two\x1b[31m", "text", "lineone\nline two[31m"),
        ("ops:\n  a: 1\t# x", "yaml", "ops:\n  a: 1\t# x"),
    ],
)
def test_sanitize_cleans(text: str, context: str, expected: str) -> None:
    assert sanitize_input(text, context) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "context"),
    [
        ("drop table; --", "name"),
        ("1job", "name"),
        ("orders/../etc", "asset_key"),
        ("orders/*; rm -rf /", "pattern"),
        ("x" * 300, "name"),
    ],
)
def test_sanitize_refuses(text: str, context: str) -> None:
    with pytest.raises(ValidationError):
        sanitize_input(text, context)  # type: ignore[arg-type]
    clean, problem = check_input(text, context)  # type: ignore[arg-type]
    assert clean is None and problem


def test_sanitize_rejects_an_unknown_context() -> None:
    with pytest.raises(ValueError, match="unknown input context"):
        sanitize_input("x", "sql")  # type: ignore[arg-type]
