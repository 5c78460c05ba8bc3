"""SQLite under `make run`: the page's autosave and "Save and continue" arrive together.

The test database is in memory; this test copies it to a file and points two threads at the
file, as the development server's threads are, so SQLite's file locking is what is exercised.
Before transactions began IMMEDIATE (settings.DATABASES), a transaction that had read the
draft and then tried to write after the other request had committed failed at once with
"database is locked", and the page answered 500.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from opennrm.accounts.models import User
from opennrm.referrals.models import ReferralDraft

from .factories import signed_in_client
from .referral_helpers import ADULT, start

ROUNDS = 25


def _on_file(path: Path) -> dict[str, object]:
    """Copy the test database to `path` and make new threads' connections open it."""
    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()
    settings = connections.settings["default"]
    previous = {"NAME": settings["NAME"]}
    settings["NAME"] = str(path)
    return previous


def _poster(client: Client, url: str, data: dict[str, str], autosave: bool, results: list) -> None:
    headers = {"X-Autosave": "1"} if autosave else {}
    try:
        for _ in range(ROUNDS):
            response = client.post(url, data, headers=headers)
            results.append(response.status_code)
    except Exception as problem:  # noqa: BLE001 - the failure is the finding; report it
        results.append(problem)
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_autosave_and_save_and_continue_at_once_on_a_sqlite_file(
    alice: User, tmp_path: Path
) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's file locking only; PostgreSQL locks rows")
    first = signed_in_client(alice)
    second = Client()
    second.cookies = first.cookies
    draft = start(first)
    previous = _on_file(tmp_path / "race.sqlite3")
    try:
        age = reverse("referrals:step", args=[draft.public_id, "age"])
        autosaves: list[object] = []
        continues: list[object] = []
        threads = [
            threading.Thread(target=_poster, args=(first, age, ADULT, True, autosaves)),
            threading.Thread(target=_poster, args=(second, age, ADULT, False, continues)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        stored: list[dict[str, object]] = []

        def read() -> None:
            try:
                stored.append(ReferralDraft.objects.get(pk=draft.pk).answers)
            finally:
                connections.close_all()

        reader = threading.Thread(target=read)
        reader.start()
        reader.join()
    finally:
        connections.settings["default"].update(previous)
    assert autosaves == [204] * ROUNDS, [r for r in autosaves if r != 204][:1]
    assert continues == [302] * ROUNDS, [r for r in continues if r != 302][:1]
    assert stored[0]["age"] == ADULT
