"""The demo-data command: every role, idempotent, and never outside demo mode."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django.urls import reverse

from opennrm.accounts import demo
from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import Role, roles_allowed_in


@override_settings(DEMO=True)
def test_demo_data_covers_every_role_and_is_idempotent(
    db: None, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("demo_data")
    counts = (Organisation.objects.count(), User.objects.count(), Membership.objects.count())
    call_command("demo_data")
    assert (
        Organisation.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
    ) == counts
    assert {Role(m.role) for m in Membership.objects.all()} == set(Role)
    output = capsys.readouterr().out
    assert demo.DEMO_PASSWORD in output
    for account in demo.ACCOUNTS:
        assert account.email in output
    for membership in Membership.objects.select_related("organisation"):
        assert membership.role in roles_allowed_in(membership.organisation.kind)


@override_settings(DEMO=True)
def test_demo_user_reaches_their_home_page(db: None) -> None:
    call_command("demo_data")
    client = Client()
    response = client.post(
        reverse("accounts:sign_in"),
        {"email": "decisions@demo.opennrm.test", "password": demo.DEMO_PASSWORD},
    )
    assert response["Location"] == "/"
    html = client.get("/").content.decode()
    assert "Decision maker" in html
    assert "Eastgate Competent Authority" in html


@override_settings(DEMO=False)
def test_demo_data_refuses_outside_demo_mode(db: None) -> None:
    with pytest.raises(CommandError, match="only runs with OPENNRM_DEMO=true"):
        call_command("demo_data")
    assert not User.objects.exists()
