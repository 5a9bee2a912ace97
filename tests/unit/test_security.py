"""The static security scan (ruff's flake8-bandit ``S`` rules over src/) and the dependency audit
(``pip-audit`` against PyPI's advisory data) are part of the tests."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

#: Advisories accepted on purpose: id -> why it does not apply (or why no fixed release can be
#: used yet). Each is passed to pip-audit as --ignore-vuln and must still be reported by it.
AUDIT_IGNORES: dict[str, str] = {}

#: What pip-audit prints when PyPI (its advisory service) cannot be reached.
OFFLINE = re.compile(
    r"ConnectionError|NameResolutionError|Max retries exceeded|Temporary failure in name"
    r"|Network is unreachable|Connection refused|timed out|ProxyError|SSLError",
)


def _pyproject() -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_security_rules_are_enabled_for_src() -> None:
    lint = _pyproject()["tool"]["ruff"]["lint"]
    assert "S" in lint["select"]
    for pattern, ignored in lint.get("per-file-ignores", {}).items():
        if pattern.startswith("src"):
            assert not [code for code in ignored if code.startswith("S")], pattern


def test_src_is_clean_under_the_security_rules() -> None:
    done = subprocess.run(
        [str(BIN / "ruff"), "check", "--select", "S", "--output-format", "json", "src"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    findings = json.loads(done.stdout or "[]")
    shown = [f"{f['filename']}:{f['location']['row']} {f['code']} {f['message']}" for f in findings]
    assert done.returncode == 0 and not findings, "\n".join(shown) or done.stderr


def test_every_security_noqa_in_src_says_why() -> None:
    """A finding is fixed or justified: ``# noqa: S603  fixed argv, no shell`` on the line, or
    a comment line just above it."""
    bare = []
    for path in sorted((ROOT / "src").rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, 1):
            found = re.search(r"#\s*noqa:\s*(S\d+(?:\s*,\s*S\d+)*)(.*)$", line)
            if found is None:
                continue
            reason_inline = found.group(2).strip()
            reason_above = number > 1 and lines[number - 2].strip().startswith("#")
            if not reason_inline and not reason_above:
                bare.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not bare, "security findings silenced without a reason:\n" + "\n".join(bare)


def _pypi_reachable() -> str | None:
    """None if PyPI serves per-release data (where pip-audit reads advisories), else why not."""
    import httpx

    url = "https://pypi.org/pypi/pip/24.0/json"
    try:
        answer = httpx.get(url, timeout=15)
        answer.raise_for_status()
        if "vulnerabilities" not in answer.json():
            return f"{url} has no vulnerabilities field"
    except (httpx.HTTPError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _audit(*args: str) -> list[dict[str, Any]]:
    """Run pip-audit with ``args``; the vulnerable dependencies it reports (ignores applied)."""
    why = _pypi_reachable()
    if why is not None:
        pytest.skip(f"pip-audit needs PyPI's advisory data, which is not served here ({why})")
    ignores = [arg for vuln in AUDIT_IGNORES for arg in ("--ignore-vuln", vuln)]
    command = [str(BIN / "pip-audit"), "--format", "json", "--progress-spinner", "off"]
    done = subprocess.run(
        [*command, *ignores, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode not in (0, 1) and OFFLINE.search(done.stderr):
        pytest.skip(f"pip-audit could not reach its advisory service:\n{done.stderr[-1500:]}")
    assert done.returncode in (0, 1), done.stderr[-3000:]
    dependencies = [d for d in json.loads(done.stdout)["dependencies"] if d["name"] != "daglab"]
    unaudited = [d for d in dependencies if "skip_reason" in d]
    if dependencies and len(unaudited) == len(dependencies):
        # An index that serves packages but no per-release data (a mirror) audits nothing.
        pytest.skip(
            f"PyPI answered but had no advisory data for any of {len(unaudited)} dependencies"
            f" (e.g. {unaudited[0]['skip_reason']})"
        )
    assert not unaudited, "not audited:\n" + "\n".join(d["skip_reason"] for d in unaudited)
    return [dep for dep in dependencies if dep.get("vulns")]


def _describe(vulnerable: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{dep['name']}=={dep['version']}: {vuln['id']} {vuln.get('aliases', [])}"
        f" fixed in {vuln.get('fix_versions') or 'no release yet'}"
        for dep in vulnerable
        for vuln in dep["vulns"]
    )


@pytest.mark.slow
def test_the_pinned_dependencies_have_no_known_vulnerabilities() -> None:
    """constraints.txt, the versions the default test environment runs with. A finding is
    fixed by bumping the pin to a fixed release, or justified in AUDIT_IGNORES."""
    vulnerable = _audit("--requirement", "constraints.txt", "--no-deps", "--disable-pip")
    assert not vulnerable, "known vulnerabilities in constraints.txt:\n" + _describe(vulnerable)


@pytest.mark.slow
def test_the_installed_environment_has_no_known_vulnerabilities() -> None:
    """What this interpreter runs with, which in a compatibility cell is not constraints.txt
    (daglab itself, installed editable and not on PyPI, is skipped)."""
    vulnerable = _audit("--local", "--skip-editable")
    assert not vulnerable, "known vulnerabilities installed:\n" + _describe(vulnerable)


def test_every_ignored_advisory_has_a_reason() -> None:
    for vuln, reason in AUDIT_IGNORES.items():
        assert re.fullmatch(r"(PYSEC|GHSA|CVE|OSV)-[\w-]+", vuln), vuln
        assert len(reason.split()) >= 4, f"{vuln}: say why it is accepted"
