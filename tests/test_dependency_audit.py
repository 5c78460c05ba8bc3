"""bin/audit-dependencies: the count of packages checked is honest, and in CI a package that could
not be checked fails the step unless it is an accepted, documented unverifiable pin.

The registry is faked: pip-audit's report and PyPI's project data are whatever each test says.
"""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from importlib.machinery import SourceFileLoader
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "bin" / "audit-dependencies"


def load() -> Any:
    loader = SourceFileLoader("audit_dependencies", str(SCRIPT))
    spec = importlib.util.spec_from_loader("audit_dependencies", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    # Its dataclasses look their module up by name while they are being made.
    sys.modules["audit_dependencies"] = module
    loader.exec_module(module)
    return module


class Response(io.BytesIO):
    def __enter__(self) -> Response:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()


def run(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *,
    pins: dict[str, str],
    latest: dict[str, tuple[str, list[dict[str, Any]]]],
    unverifiable: dict[str, str],
    ci: bool,
) -> tuple[int, str]:
    script = load()
    monkeypatch.setattr(script, "export", lambda requirements: dict(pins))
    # pip-audit as it answers where PyPI serves no per-version data: nothing checked.
    skipped = [
        {"name": name, "version": version, "skip_reason": "Dependency not found on PyPI"}
        for name, version in pins.items()
    ]
    monkeypatch.setattr(
        script, "run_pip_audit", lambda requirements, report: ({"dependencies": skipped}, "")
    )

    def urlopen(url: str, timeout: int) -> Response:
        name = url.rstrip("/").split("/")[-2]
        version, vulns = latest[name]
        return Response(
            json.dumps({"info": {"version": version}, "vulnerabilities": vulns}).encode()
        )

    monkeypatch.setattr(script.urllib.request, "urlopen", urlopen)
    monkeypatch.setattr(script, "UNVERIFIABLE", unverifiable, raising=False)
    monkeypatch.delenv("OPENNRM_AUDIT_STRICT", raising=False)
    if ci:
        monkeypatch.setenv("CI", "true")
    else:
        monkeypatch.delenv("CI", raising=False)
    status = script.main()
    return status, capsys.readouterr().out


PINS = {"alpha": "1.0", "beta": "2.0"}
# beta is held below its latest release: PyPI's project data cannot answer for 2.0.
LATEST: dict[str, tuple[str, list[dict[str, Any]]]] = {"alpha": ("1.0", []), "beta": ("3.0", [])}


def test_in_ci_a_package_that_could_not_be_checked_fails_the_audit_and_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = run(monkeypatch, capsys, pins=PINS, latest=LATEST, unverifiable={}, ci=True)
    assert status != 0
    last = out.strip().splitlines()
    assert "DEPENDENCY AUDIT: checked 1 of 2 packages; NOT CHECKED: beta 2.0 (NOT ACCEPTED)" in last
    assert any(line.startswith("DEPENDENCY AUDIT FAILED") and "beta" in line for line in last)


def test_outside_ci_an_incomplete_audit_passes_but_says_what_it_did_not_check(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = run(monkeypatch, capsys, pins=PINS, latest=LATEST, unverifiable={}, ci=False)
    assert status == 0
    assert "DEPENDENCY AUDIT INCOMPLETE: 1 of 2 packages" in out
    assert out.strip().splitlines()[-1] == (
        "DEPENDENCY AUDIT: checked 1 of 2 packages; NOT CHECKED: beta 2.0 (NOT ACCEPTED)"
    )


def test_in_ci_an_accepted_unverifiable_pin_passes_and_is_still_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = run(
        monkeypatch, capsys, pins=PINS, latest=LATEST, unverifiable={"beta": "2.0"}, ci=True
    )
    assert status == 0
    assert out.strip().splitlines()[-1] == (
        "DEPENDENCY AUDIT: checked 1 of 2 packages; NOT CHECKED: beta 2.0"
    )


@pytest.mark.parametrize(
    ("unverifiable", "why"),
    [
        ({"beta": "1.5"}, "the pin is now 2.0"),  # the pin moved: the entry no longer covers it
        ({"beta": "2.0", "alpha": "1.0"}, "it was checked after all"),
        ({"beta": "2.0", "gamma": "1.0"}, "no longer a runtime dependency"),
    ],
)
def test_in_ci_a_stale_unverifiable_entry_fails(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    unverifiable: dict[str, str],
    why: str,
) -> None:
    status, out = run(
        monkeypatch, capsys, pins=PINS, latest=LATEST, unverifiable=unverifiable, ci=True
    )
    assert status != 0
    assert why in out


def test_a_known_vulnerability_fails_everywhere(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    vulnerable = {**LATEST, "alpha": ("1.0", [{"id": "PYSEC-0-1", "fixed_in": ["1.1"]}])}
    status, out = run(monkeypatch, capsys, pins=PINS, latest=vulnerable, unverifiable={}, ci=False)
    assert status == 1
    assert "alpha 1.0: PYSEC-0-1 (fixed in: 1.1)" in out


def test_every_accepted_exception_is_justified_in_the_documentation() -> None:
    script = load()
    documented = (ROOT / "docs" / "dependencies.md").read_text()
    for name, version in script.UNVERIFIABLE.items():
        assert f"| `{name}` | `{version}` |" in documented, name
    for vuln, name in script.IGNORED.items():
        assert f"| {vuln} | {name} |" in documented, vuln
