"""Settings fail closed: no default secret, DEBUG off, production checks clean."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Keys made up for these tests only (32 bytes each, base64).
ENCRYPTION_KEY = "prod-1:" + "cHJvZHVjdGlvbi1saWtlIGVuY3J5cHRpb24ga2V5MDE="
BLIND_INDEX_KEY = "bi-1:" + "cHJvZHVjdGlvbi1saWtlIGJsaW5kaW5kZXgga2V5IDA="
PRODUCTION = {
    "DJANGO_SECRET_KEY": "p" * 20 + "Q7-x!z" * 10,
    "DJANGO_ALLOWED_HOSTS": "nrm.example.org",
    "DATABASE_URL": "sqlite:///:memory:",
    "OPENNRM_ENCRYPTION_KEYS": ENCRYPTION_KEY,
    "OPENNRM_BLIND_INDEX_KEY": BLIND_INDEX_KEY,
    "OPENNRM_SITE_URL": "https://nrm.example.org",
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


def test_demo_mode_starts_without_a_secret_and_says_so(tmp_path: Path) -> None:
    result = run_python(
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='opennrm.settings'; django.setup();"
        "from django.conf import settings; print(settings.DEMO, settings.DEBUG, settings.SECURE_SSL_REDIRECT)",
        {"OPENNRM_DEMO": "true", "OPENNRM_VAR_DIR": str(tmp_path)},
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
    ("name", "value"),
    [
        ("OPENNRM_DEMO", "maybe"),
        ("OPENNRM_SESSION_IDLE_SECONDS", "ten"),
        # A retention period of 0 would erase everything on the next run.
        ("OPENNRM_RETENTION_CLOSED_CASE_YEARS", "0"),
        ("OPENNRM_RETENTION_DRAFT_DAYS", "-5"),
    ],
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


SETUP = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='opennrm.settings'; django.setup()"


@pytest.mark.parametrize("variable", ["OPENNRM_ENCRYPTION_KEYS", "OPENNRM_BLIND_INDEX_KEY"])
def test_no_encryption_key_means_no_start(variable: str) -> None:
    result = run_python(SETUP, {k: v for k, v in PRODUCTION.items() if k != variable})
    assert result.returncode != 0
    assert f"{variable} (or {variable.removesuffix('S')}_FILE) is not set" in result.stderr


def test_demo_mode_starts_without_keys_using_the_public_demo_keys(tmp_path: Path) -> None:
    result = run_python(
        SETUP + "; from django.conf import settings;"
        "print(settings.ENCRYPTION_KEYS[0].id, settings.BLIND_INDEX_KEYS[0].id)",
        {"OPENNRM_DEMO": "true", "OPENNRM_VAR_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["demo", "demo"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("k1:bm90IDMyIGJ5dGVz", "must be 32 random bytes"),
        ("k1:***", "is not valid base64"),
        ("just-a-key", "id:base64key"),
        ("bad id:" + ENCRYPTION_KEY.split(":")[1], "must be 1 to 32 letters"),
    ],
)
def test_malformed_keys_are_refused_without_showing_them(value: str, message: str) -> None:
    result = run_python(SETUP, {**PRODUCTION, "OPENNRM_ENCRYPTION_KEYS": value})
    assert result.returncode != 0
    assert message in result.stderr
    assert "OPENNRM_ENCRYPTION_KEYS, line 1" in result.stderr
    assert ENCRYPTION_KEY.split(":")[1] not in result.stderr


def test_keys_can_come_from_a_file_after_the_variable(tmp_path: Path) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text("# old keys, kept until rotate_keys has run\n" + ENCRYPTION_KEY + "\n")
    new = "prod-2:" + "bmV3IHByaW1hcnkga2V5IGZvciB0aGUgdGVzdHMgMDE="
    result = run_python(
        SETUP + "; from django.conf import settings;"
        "print(*[k.id for k in settings.ENCRYPTION_KEYS])",
        {
            **PRODUCTION,
            "OPENNRM_ENCRYPTION_KEYS": new,
            "OPENNRM_ENCRYPTION_KEY_FILE": str(key_file),
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["prod-2", "prod-1"]


def test_an_unreadable_key_file_stops_start_up(tmp_path: Path) -> None:
    result = run_python(
        SETUP,
        {**PRODUCTION, "OPENNRM_ENCRYPTION_KEY_FILE": str(tmp_path / "missing")},
    )
    assert result.returncode != 0
    assert "OPENNRM_ENCRYPTION_KEY_FILE: cannot read" in result.stderr


def test_one_key_cannot_both_encrypt_and_index() -> None:
    result = run_python(
        SETUP, {**PRODUCTION, "OPENNRM_BLIND_INDEX_KEY": "bi-1:" + ENCRYPTION_KEY.split(":")[1]}
    )
    assert result.returncode != 0
    assert "give the blind indexes a key of their own" in result.stderr


def test_the_statistics_contact_is_set_by_the_operator_and_a_placeholder_only_in_demo(
    tmp_path: Path,
) -> None:
    show = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='opennrm.settings'; django.setup();"
        "from django.conf import settings; print(repr(settings.STATISTICS_CONTACT))"
    )
    demo = {"OPENNRM_DEMO": "true", "OPENNRM_VAR_DIR": str(tmp_path)}
    assert run_python(show, demo).stdout.strip() == "'statistics@example.org'"
    assert run_python(show, PRODUCTION).stdout.strip() == "''"
    chosen = {**PRODUCTION, "OPENNRM_STATISTICS_CONTACT": "figures@nrm.example.org"}
    assert run_python(show, chosen).stdout.strip() == "'figures@nrm.example.org'"
