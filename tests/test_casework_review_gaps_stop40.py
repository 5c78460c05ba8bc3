"""Casework and care forms as a real user sends them (review, stop 40).

Protected here:

- the care text areas (a support plan measure's notes, what was delivered, where a missing
  person was last seen) count a browser's CR LF line break once, as their author does, and
  store LF (ADR 27, addendum stop 37 and stop 40);
- the contacts pages record a read of the contact details, references and agency they show
  again after a refusal, as their GET does;
- a missing report sent twice by its reporter is taken as the report already made, not
  "someone else's", and nobody is told twice;
- a plan measure or the contacts saved twice by the same person is answered as saved, not as
  someone else's change.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent
from opennrm.care.models import MissingEpisode, ServiceDelivery, SupportMeasure
from opennrm.cases.models import Case
from opennrm.contacts.models import CaseContacts
from opennrm.notifications.models import Notification
from tests import case_factories, factories
from tests import support_plan_helpers as h

# --- Line breaks in the care text areas ---------------------------------------------------------


def _text(limit: int) -> tuple[str, str]:
    """Paragraphs, as a browser sends them (CR LF), within `limit` as their author sees them
    (LF, as every character counter and the browser's own textarea count) but over it as sent."""
    line = "Seen at the bus stop on Mill Lane, 21:30"  # 40 characters
    count = limit // (len(line) + 1)
    text = "\r\n".join([line] * count)
    seen = text.replace("\r\n", "\n")
    assert len(seen) <= limit < len(text)
    return text, seen


def _today_parts(name: str) -> dict[str, str]:
    today = timezone.localdate()
    return {
        f"{name}_day": str(today.day),
        f"{name}_month": str(today.month),
        f"{name}_year": str(today.year),
    }


@pytest.mark.parametrize("field", ["measure notes", "service delivered", "missing last seen"])
def test_a_long_care_text_is_measured_as_its_author_sees_it(
    field: str,
    alice: User,
    cora: User,
    maya: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """A safe-house manager writing a long plan, a service delivered or a detailed "last seen"
    in paragraphs is not refused text within the limit as she counts it: `care.forms` uses
    `LinesField` and `care.services` makes CR LF an LF before measuring and storing."""
    case = case_factories.consenting(alice, northmoor_police, authority)
    h.living(cora, maya, provider, case)
    client = factories.signed_in_client(maya)
    ref = case.reference
    if field == "measure notes":
        text, seen = _text(5000)
        url = f"/support/people/{ref}/plan/measures/counselling/"
        data = {"status": "needed", "notes": text, "expected_version": "1"}
    elif field == "service delivered":
        text, seen = _text(2000)
        url = f"/support/people/{ref}/plan/delivered/"
        data = {
            "measure": "counselling",
            "provider": str(provider.pk),
            "description": text,
            **_today_parts("delivered_on"),
        }
    else:
        text, seen = _text(2000)
        url = f"/support/people/{ref}/missing/"
        data = {"last_seen": text, **_today_parts("went_missing_on")}
    response = client.post(url, data)
    assert response.status_code == 302, (
        f"the {field} within the limit as its author sees it were refused: "
        + ("characters or fewer" in response.content.decode()) * "too long"
    )
    stored = {
        "measure notes": lambda: SupportMeasure.objects.get(plan__case=case).notes,
        "service delivered": lambda: ServiceDelivery.objects.get(plan__case=case).description,
        "missing last seen": lambda: MissingEpisode.objects.get(case=case).last_seen,
    }[field]()
    assert stored == seen


# --- Contact details shown again after a refusal ------------------------------------------------

ADDRESS = "14 Quillfeather Road, Brackenfold"
CRIME_REFERENCE = "13/45678/26"
AGENCY = "Brackenfold Road Surgery"


def _reads(user: User) -> list[list[str]]:
    return [
        event.detail.get("fields", [])
        for event in AuditEvent.objects.filter(action="person.viewed", actor=user).order_by("pk")
    ]


@pytest.mark.parametrize(
    ("page", "data", "shown", "field"),
    [
        # A phone number mistyped: the address and crime reference typed come back in the form.
        (
            "cases:contacts_edit",
            {
                "expected_version": "1",
                "referrer_phone": "0163",
                "crime_reference": CRIME_REFERENCE,
                "location_type": "family_or_friends",
                "location_address": ADDRESS,
            },
            ADDRESS,
            "location_address",
        ),
        (
            "cases:contacts_edit",
            {
                "expected_version": "1",
                "referrer_phone": "0163",
                "crime_reference": CRIME_REFERENCE,
            },
            CRIME_REFERENCE,
            "crime_reference",
        ),
        # Consent without the day it was given: the agency named (a GP surgery, which says
        # where the person lives) comes back in the form.
        (
            "cases:contacts_consent",
            {"agency_kind": "health", "agency_name": AGENCY, "consent_given": "yes"},
            AGENCY,
            "agencies_consented",
        ),
    ],
    ids=["address", "crime reference", "agency consented"],
)
def test_contact_details_shown_again_after_a_refusal_are_recorded_as_read(
    page: str, data: dict[str, str], shown: str, field: str, case: Case, dmitri: User
) -> None:
    """ "Who has looked at my details" is answered in full: a refusal (a mistyped phone
    number, a missing date) that shows the typed address, references or agency again records
    a read naming those fields (`contacts.views.contacts_edit`, `contacts_consent`), as the
    GET of the page and casework's and care's forms do."""
    client = factories.signed_in_client(dmitri)
    before = len(_reads(dmitri))
    response = client.post(reverse(page, args=[case.reference]), data)
    assert response.status_code == 200
    assert shown in response.content.decode()
    recorded = _reads(dmitri)[before:]
    assert any(field in fields for fields in recorded), (
        f"{field} was shown again with no read recorded (reads: {recorded})"
    )


# --- A missing report sent twice ----------------------------------------------------------------


def _missing_form(last_seen: str) -> dict[str, str]:
    return {**_today_parts("went_missing_on"), "last_seen": last_seen}


def test_a_missing_report_sent_twice_is_taken_as_the_reporters_own(
    alice: User,
    cora: User,
    maya: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """A second click on "Report missing" (or a browser's retry) takes the manager to her
    episode with the "Reported missing" message (`care.services.missing_report` returns the
    open episode she reported with the same answers), tells nobody twice, and never says that
    someone else reported the person or that nothing she typed was sent."""
    case = case_factories.consenting(alice, northmoor_police, authority)
    h.living(cora, maya, provider, case)
    client = factories.signed_in_client(maya)
    url = f"/support/people/{case.reference}/missing/"
    form = _missing_form(
        "Left by the back door after supper,\r\ngrey hoodie, with a man in a white van"
    )
    first = client.post(url, form)
    assert first.status_code == 302
    episode = MissingEpisode.objects.get(case=case)
    assert episode.reported_by == maya
    told = Notification.objects.count()
    again = client.post(url, form)
    page = again.content.decode()
    assert "Someone else has reported" not in page, (
        "her own report, sent twice, is said to be someone else's"
    )
    assert "Nothing you typed below has been sent" not in page
    assert again.status_code == 302
    assert again["Location"] == first["Location"]
    assert MissingEpisode.objects.filter(case=case).count() == 1
    assert Notification.objects.count() == told, "someone was told twice"


def test_another_report_while_missing_says_whose_report_stands(
    alice: User,
    cora: User,
    maya: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """A different report while the person is missing is still refused, and the page says
    whose report stands: "someone else" only when it was someone else; her own earlier report
    is called hers."""
    case = case_factories.consenting(alice, northmoor_police, authority)
    h.living(cora, maya, provider, case)
    url = f"/support/people/{case.reference}/missing/"
    maya_client = factories.signed_in_client(maya)
    assert maya_client.post(url, _missing_form("Left after supper")).status_code == 302
    changed = maya_client.post(url, _missing_form("Left after supper, in a white van"))
    assert changed.status_code == 200
    mine = changed.content.decode()
    assert "You reported this person missing" in mine
    assert "Someone else has reported" not in mine
    other = factories.signed_in_client(cora).post(url, _missing_form("Left after supper"))
    assert other.status_code == 200
    assert "Someone else has reported this person missing" in other.content.decode()
    assert MissingEpisode.objects.filter(case=case).count() == 1


# --- A change saved twice -----------------------------------------------------------------------


@pytest.mark.parametrize("page", ["support plan measure", "contacts"])
def test_the_same_change_sent_twice_is_not_said_to_be_someone_elses(
    page: str,
    alice: User,
    cora: User,
    maya: User,
    provider: Organisation,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """A "Save" sent twice (a second click, a browser's retry) by the same person is answered
    as saved, with nothing more written (`care.services.support_measure_update`,
    `contacts.services.case_contacts_update`); a stale save with other answers is still
    refused as someone else's change."""
    case = case_factories.consenting(alice, northmoor_police, authority)
    h.living(cora, maya, provider, case)
    if page == "support plan measure":
        client = factories.signed_in_client(maya)
        url = f"/support/people/{case.reference}/plan/measures/counselling/"
        form = {
            "status": "needed",
            "notes": "Wants a woman counsellor\r\nwho speaks Albanian",
            "expected_version": "1",
        }
        changed = {**form, "notes": "Wants a counsellor who speaks Albanian"}
    else:
        client = factories.signed_in_client(alice)
        url = reverse("cases:contacts_edit", args=[case.reference])
        form = {
            "expected_version": "1",
            "referrer_phone": "01632 960 001",
            "crime_reference": "13/45678/26",
        }
        changed = {**form, "crime_reference": "13/45678/27"}
    assert client.post(url, form).status_code == 302
    again = client.post(url, form)
    assert "Someone else changed" not in again.content.decode(), (
        "her own save, sent twice, is reported as someone else's change"
    )
    assert again.status_code == 302
    stale = client.post(url, changed)
    assert stale.status_code == 200
    assert "Someone else changed" in stale.content.decode()
    if page == "support plan measure":
        assert SupportMeasure.objects.get(plan__case=case).version == 2
    else:
        assert CaseContacts.objects.get(case=case).version == 2
