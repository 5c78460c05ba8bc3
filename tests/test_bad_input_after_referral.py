"""Bad input on the pages after a referral (casework, contacts): a clear message naming the
field, once, and nothing half-written; never a server error."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import AgeGroup
from opennrm.cases.models import Case
from opennrm.casework.models import CaseNote, CaseTask
from opennrm.contacts.models import AgencyConsent

from . import case_factories, factories

HUGE = "9" * 25  # a number too large for a C long, but far short of int()'s digit limit


def _no_raise(client: Client) -> Client:
    client.raise_request_exception = False
    return client


def _errors(html: str) -> list[str]:
    """The texts of the field error messages on a GOV.UK page."""
    found = re.findall(
        r'<p id="[^"]*" class="govuk-error-message">\s*<span class="govuk-visually-hidden">'
        r"Error:</span>(.*?)</p>",
        html,
        flags=re.S,
    )
    return [" ".join(text.split()) for text in found]


@pytest.fixture
def adult_case(alice: User, northmoor_police: Organisation, authority: Organisation) -> Case:
    return case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        consent_to_support=True,
    )


def test_a_task_due_date_with_a_huge_month_is_refused_not_a_server_error(
    adult_case: Case, alice: User
) -> None:
    """A month of 25 digits (too large for `date()`, which raises OverflowError) is "not a
    real date", not a server error."""
    client = _no_raise(factories.signed_in_client(alice))
    response = client.post(
        reverse("cases:task_add", args=[adult_case.reference]),
        {
            "title": "Ask the GP surgery for the report",
            "owner": str(alice.pk),
            "due_on_day": "1",
            "due_on_month": HUGE,
            "due_on_year": "2030",
        },
    )
    assert response.status_code == 200
    assert "Due date must be a real date" in response.content.decode()
    assert not CaseTask.objects.exists()


def test_a_consent_date_with_a_huge_day_is_refused_not_a_server_error(
    adult_case: Case, alice: User
) -> None:
    """The same through the consent page's date: every date box goes through one function."""
    client = _no_raise(factories.signed_in_client(alice))
    response = client.post(
        reverse("cases:contacts_consent", args=[adult_case.reference]),
        {
            "agency_kind": "police",
            "agency_name": "Test Police",
            "consent_given": "yes",
            "given_on_day": HUGE,
            "given_on_month": "1",
            "given_on_year": "2026",
        },
    )
    assert response.status_code == 200
    assert "must be a real date" in response.content.decode()
    assert not AgencyConsent.objects.exists()


def test_consent_answered_in_the_year_1_is_refused(adult_case: Case, alice: User) -> None:
    """A consent "given" on 1 January of the year 1 is refused: an answer is dated at most 30
    days before the referral."""
    response = factories.signed_in_client(alice).post(
        reverse("cases:contacts_consent", args=[adult_case.reference]),
        {
            "agency_kind": "police",
            "agency_name": "Test Police",
            "consent_given": "yes",
            "given_on_day": "1",
            "given_on_month": "1",
            "given_on_year": "0001",
        },
    )
    saved = [c.given_on for c in AgencyConsent.objects.all()]
    assert saved == [], f"recorded as given on {saved}"
    assert response.status_code == 200, "refused, the form shown again"


def test_a_nul_byte_in_a_note_gets_a_message_naming_the_note(adult_case: Case, alice: User) -> None:
    """A NUL byte is refused with a message naming the field, not Django's "Null characters
    are not allowed"."""
    response = factories.signed_in_client(alice).post(
        reverse("cases:note_add", args=[adult_case.reference]),
        {"text": "Met at the station\x00", "visibility": "own_organisation"},
    )
    assert response.status_code == 200
    assert not CaseNote.objects.exists()
    shown = _errors(response.content.decode())
    assert shown, "an error is shown"
    assert all("note" in message.lower() for message in shown), shown


def test_a_task_title_with_control_characters_is_refused_naming_the_field(
    adult_case: Case,
    alice: User,
) -> None:
    """A one-line title holding a line break, an escape and a backspace is refused, naming
    the field (`lib.text.single_line`)."""
    today = timezone.localdate()
    response = factories.signed_in_client(alice).post(
        reverse("cases:task_add", args=[adult_case.reference]),
        {
            "title": "Ask the GP\r\nfor the report\x1b[2J\x08",
            "owner": str(alice.pk),
            "due_on_day": str(today.day),
            "due_on_month": str(today.month),
            "due_on_year": str(today.year),
        },
    )
    saved = [task.title for task in CaseTask.objects.all()]
    assert saved == [], f"saved: {saved!r}"
    assert response.status_code == 200
    assert any("what needs doing" in e.lower() for e in _errors(response.content.decode()))


def test_a_childs_social_worker_email_too_long_and_malformed_gets_one_message(
    alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """An e-mail address both too long and malformed gets one message: GOV.UK shows one per
    field, the first thing to put right (`lib.govuk_forms.field_errors`)."""
    child = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.CHILD,
    )
    response = factories.signed_in_client(alice).post(
        reverse("cases:contacts_edit", args=[child.reference]),
        {"expected_version": "1", "social_worker_email": "x" * 300},
    )
    assert response.status_code == 200
    (shown,) = [e for e in _errors(response.content.decode()) if "email address" in e]
    assert shown.count("email address") == 1, shown


def test_a_note_that_is_not_utf8_is_refused_not_saved_garbled(
    adult_case: Case,
    alice: User,
) -> None:
    """A form body that is not UTF-8 is refused before any view: Django would decode it with
    replacement characters, and a note is kept for ever."""
    client = factories.signed_in_client(alice)
    url = reverse("cases:note_add", args=[adult_case.reference])
    response = client.post(
        url,
        data=b"text=Met%20her%20at%20%FF%FE%20station&visibility=own_organisation",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    saved = [note.text for note in CaseNote.objects.all()]
    assert saved == [], f"saved: {saved!r}"
    # The same note, as a browser sends it (UTF-8), is kept.
    response = client.post(url, {"text": "Met her at the café", "visibility": "own_organisation"})
    assert response.status_code == 302
    assert [note.text for note in CaseNote.objects.all()] == ["Met her at the café"]


def test_the_same_note_sent_twice_is_added_once(adult_case: Case, alice: User) -> None:
    """A note can never be removed (ADR 27), so the same form sent twice (a second click before
    the first answer, a browser's retry) adds it once: the page gives each showing of the form
    a one-time key. A new showing of the form is a new note."""
    client = factories.signed_in_client(alice)
    url = reverse("cases:note_add", args=[adult_case.reference])

    def key_of_the_form() -> str:
        page = client.get(url).content.decode()
        found = re.search(r'name="submission_key" value="([0-9a-f-]{36})"', page)
        assert found, "the form carries its one-time key"
        return found.group(1)

    form = {
        "text": "Met her at the station.",
        "visibility": "own_organisation",
        "submission_key": key_of_the_form(),
    }
    assert client.post(url, form).status_code == 302
    assert client.post(url, form).status_code == 302
    assert CaseNote.objects.filter(case=adult_case).count() == 1
    assert AuditEvent.objects.filter(action="case_note.added").count() == 1
    client.post(url, form | {"submission_key": key_of_the_form()})
    assert CaseNote.objects.filter(case=adult_case).count() == 2
