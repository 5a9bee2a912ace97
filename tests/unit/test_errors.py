"""The exit-code taxonomy of section 9."""

from __future__ import annotations

import signal

import daglab._errors as errors


def test_each_kind_has_its_documented_code() -> None:
    assert errors.UsageError.exit_code == 2
    assert errors.EnvironmentMissingError.exit_code == 3
    assert errors.RunFailedError.exit_code == 4
    assert errors.ConnectivityError.exit_code == 5
    assert errors.AuthenticationError.exit_code == 6
    assert errors.ValidationError.exit_code == 7
    assert errors.ConfigError.exit_code == 7
    assert errors.TemplateError.exit_code == 7
    assert errors.ConflictError.exit_code == 8


def test_codes_never_look_like_signals() -> None:
    signal_codes = {128 + s for s in signal.Signals}
    assert not {int(code) for code in errors.ExitCode} & signal_codes


def test_every_error_has_a_remediation_and_serialises() -> None:
    for cls in (
        errors.UsageError,
        errors.EnvironmentMissingError,
        errors.RunFailedError,
        errors.ConnectivityError,
        errors.AuthenticationError,
        errors.ValidationError,
        errors.ConflictError,
    ):
        error = cls("boom", where="here")
        assert issubclass(cls, errors.DaglabError)
        assert error.remediation
        data = error.to_dict()
        assert data["exit_code"] == int(cls.exit_code)
        assert data["message"] == "boom"
        assert data["details"] == {"where": "here"}
    assert errors.ConflictError("x", remediation="do y").remediation == "do y"
