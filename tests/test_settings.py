"""Settings fail closed: no default secret, DEBUG off, production checks clean."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DJANGO_SECRET_KEY": "p" * 20 + "Q7-x!z" * 10,
    "DJANGO_ALLOWED_HOSTS": "nrm.example.org",
    "DATABASE_URL": "sqlite:///:memory:",
}


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "OPENNRM_", "DATABASE_URL"))
    }
    clean.update(env)
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code],
        env=clean,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = f"import sys; sys.argv = ['manage.py', *{list(args)!r}]; import runpy; runpy.run_path('manage.py', run_name='__main__')"
    return run_python(code, env)


def test_no_secret_means_no_start() -> None:
    result = run_python(
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='opennrm.settings'; django.setup()",
        {},
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_demo_mode_starts_without_a_secret_and_says_so() -> None:
    result = run_python(
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='opennrm.settings'; django.setup();"
        "from django.conf import settings; print(settings.DEMO, settings.DEBUG, settings.SECURE_SSL_REDIRECT)",
        {"OPENNRM_DEMO": "true", "OPENNRM_VAR_DIR": "/tmp/opennrm-settings-test"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False", "False"]


def test_debug_is_off_unless_asked_and_https_is_on() -> None:
    result = run_python(
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='opennrm.settings'; django.setup();"
        "from django.conf import settings; print(settings.DEBUG, settings.SECURE_SSL_REDIRECT, settings.SESSION_COOKIE_SECURE, settings.ALLOWED_HOSTS)",
        PRODUCTION,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False True True ['nrm.example.org']"


@pytest.mark.parametrize(
    ("name", "value"), [("OPENNRM_DEMO", "maybe"), ("OPENNRM_SESSION_IDLE_SECONDS", "ten")]
)
def test_malformed_variables_are_refused_by_name(name: str, value: str) -> None:
    result = run_python(
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='opennrm.settings'; django.setup()",
        {**PRODUCTION, name: value},
    )
    assert result.returncode != 0
    assert name in result.stderr


def test_check_deploy_is_clean_under_production_settings() -> None:
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_an_empty_variable_means_its_default_not_off() -> None:
    result = run_python(
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='opennrm.settings'; django.setup();"
        "from django.conf import settings; print(settings.SECURE_SSL_REDIRECT, settings.MAILERS['default']['BACKEND'])",
        {**PRODUCTION, "OPENNRM_HTTPS": "", "OPENNRM_EMAIL_BACKEND": ""},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "django.core.mail.backends.smtp.EmailBackend"]
