"""Gaps in accommodation found in review (stop 39): a safe house's details saved from a page
opened before someone else's change (reviewer: races)."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from opennrm.accommodation.models import Site, SiteAssignment
from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import Role

from . import factories
from . import support_factories as s
from ._races_forms import form_data


def test_a_site_saved_from_a_stale_page_does_not_put_back_the_old_address(
    maya: User, provider: Organisation
) -> None:
    """Who is hurt: the women living in a safe house whose address has been compromised, and
    the coordinators who send people there. Maya and Mo both manage North House. The house
    moves after its address leaked; Maya records the new address. Mo, whose "Change the site"
    page was opened before (to add a staff language), saves it.

    Now: Mo's save writes the old, compromised address (and every other field his page showed)
    back over Maya's, with no warning: coordinators who are granted the address, and anyone
    sent there, get the old house. `accommodation.services.site_update` applies every field
    the form sends with no version check.
    Should: Mo's save is refused as out of date, his answers kept; the new address stays."""
    site = s.site(maya, provider, name="North House")
    mo = factories.user("mo@example.org", organisation=provider, role=Role.SAFE_HOUSE_MANAGER)
    SiteAssignment.objects.create(
        membership=Membership.objects.get(user=mo, organisation=provider),
        site=site,
        assigned_by=maya,
        assigned_at=timezone.now(),
    )
    url = reverse("support:site_edit", args=[site.pk])
    mayas, mos = factories.signed_in_client(maya), factories.signed_in_client(mo)

    mos_form = form_data(mos.get(url).content.decode())
    assert mos_form["address"] == s.ADDRESS

    mayas_form = form_data(mayas.get(url).content.decode())
    mayas_form["address"] = "2 New Safe Street, Testtown"
    mayas_form["postcode"] = "TE2 2NW"
    assert mayas.post(url, mayas_form).status_code == 302
    assert Site.objects.get(pk=site.pk).address == "2 New Safe Street, Testtown"

    languages = mos_form.get("staff_languages", [])
    mos_form["staff_languages"] = [
        *([languages] if isinstance(languages, str) else languages),
        "ro",
    ]
    refused = mos.post(url, mos_form)

    assert Site.objects.get(pk=site.pk).address == "2 New Safe Street, Testtown", (
        "a site form opened before the house moved wrote the old, compromised address back"
    )
    # Refused, his answers kept, and told which of them differ from the site as it is now.
    assert refused.status_code == 200
    page = refused.content.decode()
    assert "Someone else changed this site while you were working on it" in page
    assert "address, postcode and staff languages" in page
    kept = form_data(page)
    assert "ro" in kept["staff_languages"]
    assert kept["address"] == s.ADDRESS


def test_a_site_refused_as_stale_is_saved_once_checked(maya: User, provider: Organisation) -> None:
    """The refused page carries the site's version as it is now: once the manager has put the
    new address back into their answers, saving again is accepted rather than refused for
    ever, and a save from an up-to-date page keeps working one after another."""
    site = s.site(maya, provider, name="North House")
    url = reverse("support:site_edit", args=[site.pk])
    client = factories.signed_in_client(maya)
    stale = form_data(client.get(url).content.decode())

    first = form_data(client.get(url).content.decode())
    first["address"] = "2 New Safe Street, Testtown"
    assert client.post(url, first).status_code == 302

    stale["near_school"] = "on"
    refused = client.post(url, stale)
    assert refused.status_code == 200
    assert not Site.objects.get(pk=site.pk).near_school

    checked = form_data(refused.content.decode())
    checked["address"] = "2 New Safe Street, Testtown"
    assert client.post(url, checked).status_code == 302
    saved = Site.objects.get(pk=site.pk)
    assert saved.near_school
    assert saved.address == "2 New Safe Street, Testtown"

    again = form_data(client.get(url).content.decode())
    again["area"] = "Othershire"
    assert client.post(url, again).status_code == 302
    assert Site.objects.get(pk=site.pk).area == "Othershire"
