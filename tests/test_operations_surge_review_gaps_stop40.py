"""Surge places and held beds taken once a page (stop 40 review): the "Add surge places" and
"Hold beds" pages carry a one-time submission key, as the reception form and referrals do, so
the same page sent twice (a double click, a resend after a slow response) adds the places, or
holds the beds, once; the second post is shown what the first made."""

from __future__ import annotations

import re
from datetime import date

import pytest
import time_machine
from django.http import HttpResponse
from django.urls import reverse

from opennrm.accommodation.models import Bed, BedHold
from opennrm.accounts.models import Organisation, User
from opennrm.operations.models import Operation, SurgePlaces

from . import factories, operation_helpers, surge_helpers
from . import support_factories as s


def _date(prefix: str, day: date) -> dict[str, str]:
    return {
        f"{prefix}_day": str(day.day),
        f"{prefix}_month": str(day.month),
        f"{prefix}_year": str(day.year),
    }


def _key(page: HttpResponse) -> str:
    """The one-time key the page was shown with, as a browser sends it back."""
    found = re.search(r'name="submission_key"[^>]*value="([0-9a-f-]+)"', page.content.decode())
    assert found, "the page has no submission key"
    return found.group(1)


@pytest.fixture
def planned(alice: User, northmoor_police: Organisation, provider: Organisation) -> Operation:
    return surge_helpers.invited_operation(alice, northmoor_police, provider)


def _surge_answers(site_pk: int, places: str = "10") -> dict[str, object]:
    return (
        {"site": site_pk, "places": places, "funding_note": "Operation budget"}
        | _date("starts_on", date(2027, 3, 10))
        | _date("ends_on", date(2027, 3, 20))
    )


@pytest.mark.django_db
def test_surge_places_posted_twice_are_added_once(
    planned: Operation, maya: User, provider: Organisation
) -> None:
    """Protects the forecast's gap and matching: two surges from one page showed 20 places
    agreed for 10 (the shortfall hidden) and offered 10 beds that do not exist."""
    house = s.site(maya, provider, setting="women_only")
    url = reverse("operations:surge_add", args=[planned.id])
    with time_machine.travel(operation_helpers.BEFORE, tick=False):
        client = factories.signed_in_client(maya)
        page = client.get(url)
        assert page.status_code == 200
        answers = _surge_answers(house.pk) | {"submission_key": _key(page)}
        first = client.post(url, answers, follow=True)
        second = client.post(url, answers, follow=True)
    assert first.redirect_chain
    assert second.redirect_chain
    assert "10 surge places added" in second.content.decode()
    assert SurgePlaces.objects.filter(operation=planned).count() == 1
    assert Bed.objects.filter(operation_id=planned.pk).count() == 10


@pytest.mark.django_db
def test_surge_page_sent_again_changed_or_shown_again_adds_again(
    planned: Operation, maya: User, provider: Organisation
) -> None:
    """Protects places meant twice: the page changed after Back, or shown anew, is another
    submission, never dropped as a repeat."""
    house = s.site(maya, provider, setting="women_only")
    url = reverse("operations:surge_add", args=[planned.id])
    with time_machine.travel(operation_helpers.BEFORE, tick=False):
        client = factories.signed_in_client(maya)
        key = _key(client.get(url))
        assert (
            client.post(url, _surge_answers(house.pk) | {"submission_key": key}).status_code == 302
        )
        changed = _surge_answers(house.pk, places="4") | {"submission_key": key}
        assert client.post(url, changed).status_code == 302
        again = _surge_answers(house.pk) | {"submission_key": _key(client.get(url))}
        assert client.post(url, again).status_code == 302
    assert SurgePlaces.objects.filter(operation=planned).count() == 3
    assert Bed.objects.filter(operation_id=planned.pk).count() == 24


@pytest.mark.django_db
def test_beds_held_posted_twice_are_held_once(
    planned: Operation, maya: User, provider: Organisation
) -> None:
    """Protects everyone else waiting for a bed: "Hold beds" sent twice for 2 beds held 4,
    the extra two kept from every other referral until after the operation."""
    house = s.site(maya, provider, setting="women_only")
    s.beds(maya, house, count=6)
    url = reverse("operations:beds_hold", args=[planned.id])
    with time_machine.travel(operation_helpers.BEFORE, tick=False):
        client = factories.signed_in_client(maya)
        page = client.get(url)
        assert page.status_code == 200
        answers = {"site": house.pk, "count": "2", "submission_key": _key(page)} | _date(
            "until", date(2027, 3, 16)
        )
        first = client.post(url, answers)
        second = client.post(url, answers, follow=True)
        held = BedHold.objects.filter(operation_id=planned.pk, released_at=None).count()
    assert first.status_code == 302, first.content.decode()[:2000]
    assert second.redirect_chain
    assert "2 beds held" in second.content.decode()
    assert held == 2
