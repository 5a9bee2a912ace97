"""The check report doctor and audit share: exit codes, JSON, and the table with each fix."""

from __future__ import annotations

import pytest

from daglab._audit import AuditReport
from daglab._audit.context import fail, ok, warn
from daglab._cli._output import render_checks
from daglab._doctor import Check, DoctorReport


def test_audit_failures_exit_7_and_warnings_do_not() -> None:
    assert AuditReport([ok("a", "fine"), warn("b", "hm", "do x")]).exit_code == 0
    report = AuditReport([ok("a", "fine"), fail("c", "broken", "do y")])
    assert report.exit_code == 7
    data = report.to_dict()
    assert data["ok"] is False and data["exit_code"] == 7
    assert data["checks"][1]["remediation"] == "do y"


def test_doctor_keeps_its_own_default() -> None:
    assert DoctorReport([Check("x", "fail", "gone", critical=True)]).exit_code == 3
    assert DoctorReport([Check("x", "fail", "gone")]).exit_code == 0  # not critical


def test_table_shows_the_fix_under_warnings_and_failures(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    report = AuditReport(
        [ok("structure:a", "fine"), warn("b", "hm", "do x"), fail("c", "[bold]x[/]", "do y")]
    )
    render_checks(report, title="daglab audit")
    out = capsys.readouterr().out
    assert "→ do x" in out and "→ do y" in out
    assert "[bold]x[/]" in out  # text from files is shown literally, never as markup
    assert "Critical problems: c (exit code 7)" in out
