"""`bin/serve` (what `make run` ends with): HOST and PORT choose where it listens, the site's
address follows them, and one command schedules every recurring task."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent

STUB = """#!/usr/bin/env bash
# Stands in for python3: records each manage.py command with the environment it got.
echo "$* | $OPENNRM_SITE_URL | $DJANGO_ALLOWED_HOSTS" >> "$CALLS"
"""


def serve(tmp_path: Path, **env: str) -> list[str]:
    stub = tmp_path / "python"
    stub.write_text(STUB)
    stub.chmod(0o755)
    calls = tmp_path / "calls"
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in {"HOST", "PORT", "OPENNRM_SITE_URL", "DJANGO_ALLOWED_HOSTS"}
    }
    environment |= {"PYTHON": str(stub), "CALLS": str(calls), **env}
    result = subprocess.run(  # noqa: S603 - our own script, with a stub for python
        [str(ROOT / "bin/serve")], env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return [
        line.removeprefix("-m uv run --frozen python manage.py ")
        for line in calls.read_text().splitlines()
    ]


def test_host_and_port_choose_where_it_listens_and_the_site_url_follows(tmp_path: Path) -> None:
    calls = serve(tmp_path, HOST="192.0.2.7", PORT="8123")
    assert calls[0].startswith("schedule |")
    runserver = next(call for call in calls if call.startswith("runserver"))
    command, site_url, hosts = runserver.split(" | ")
    assert command == "runserver 192.0.2.7:8123 --noreload"
    assert site_url == "http://192.0.2.7:8123"
    assert "192.0.2.7" in hosts.split(",")


def test_without_host_and_port_it_serves_on_the_loopback_address(tmp_path: Path) -> None:
    calls = serve(tmp_path)
    runserver = next(call for call in calls if call.startswith("runserver"))
    assert runserver.split(" | ")[:2] == [
        "runserver 127.0.0.1:8000 --noreload",
        "http://127.0.0.1:8000",
    ]


def test_a_site_url_already_set_is_kept(tmp_path: Path) -> None:
    calls = serve(tmp_path, PORT="9000", OPENNRM_SITE_URL="https://nrm.example.org")
    runserver = next(call for call in calls if call.startswith("runserver"))
    assert runserver.split(" | ")[1] == "https://nrm.example.org"


@pytest.mark.django_db
def test_one_command_runs_every_recurring_task(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("schedule", "--now")
    out = capsys.readouterr().out
    assert "deadline reminders" in out
    assert "move-on reminders" in out
    assert "Pseudonymised" in out
    assert "shortfall of places" in out
    call_command("schedule", "retention", "--now")
    assert capsys.readouterr().out.startswith("Pseudonymised")
