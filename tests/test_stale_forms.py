"""A form refused because someone else changed the record meanwhile ("Your answers are still
here: check them, then save again") carries the record's current version from then, so the
second save, once checked, goes through instead of being refused for ever
(`lib.govuk_forms.StaleVersion`, `show_refusal`)."""

from __future__ import annotations

import re

from django.urls import reverse

from opennrm.accounts.models import User
from opennrm.cases.models import Case

from . import factories


def _hidden_version(html: str) -> int:
    found = re.search(r'name="expected_version"[^>]*value="(\d+)"', html) or re.search(
        r'value="(\d+)"[^>]*name="expected_version"', html
    )
    assert found, "the page carries the version it was made from"
    return int(found.group(1))


def test_assigning_after_someone_else_changed_the_case_goes_through_once_checked(
    case: Case, dmitri: User, sally: User
) -> None:
    client = factories.signed_in_client(sally)
    url = reverse("decisions:assign", args=[case.reference])
    loaded = case.version
    Case.objects.filter(pk=case.pk).update(version=loaded + 1)  # someone else acted meanwhile

    refused = client.post(url, {"assignee": str(dmitri.pk), "expected_version": loaded})
    html = refused.content.decode()
    assert "This case changed while you were working on it" in html
    assert Case.objects.get(pk=case.pk).assigned_to is None
    assert _hidden_version(html) == loaded + 1

    again = client.post(
        url, {"assignee": str(dmitri.pk), "expected_version": _hidden_version(html)}
    )
    assert again.status_code == 302
    assert Case.objects.get(pk=case.pk).assigned_to == dmitri
