"""After submission (issue 12 item 6, ADR 28): the competent authority asks the referrer for
more information; the referrer adds information and evidence, answering or of its own accord;
both are kept beside the referral and never change what was submitted. The referrer can
download a PDF copy of the referral as submitted, with the additions apart."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.models import Case
from opennrm.notifications.models import Notification
from opennrm.referrals import selectors, services
from opennrm.referrals.models import (
    EvidenceFile,
    InformationRequest,
    InformationRequestStatus,
    ReferralAddition,
)

from . import factories
from . import referral_helpers as r

PDF = b"%PDF-1.7\n% a statement by Zorica\n%%EOF"
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 32
MAX = 10**6


@pytest.fixture
def submitted(
    alice: User, northmoor_police: Organisation, routing: Organisation, settings, tmp_path
):
    """Zorica's referral, submitted by Alice through the referral services with one file."""
    settings.PRIVATE_FILES_DIR = tmp_path
    draft = r.draft_through_services(
        alice,
        northmoor_police,
        {**r.ADULT_REFERRAL, "indicators": r.indicators_seen("AL-DR-01", "AL-EX-01")},
        evidence=[("Zorica statement.pdf", PDF)],
    )
    result = services.referral_submit(by=alice, draft=draft)
    assert result.case is not None
    return result.case


@pytest.fixture
def outsider_decider(db: None) -> User:
    """A decision maker at another competent authority."""
    elsewhere = factories.organisation("Other Authority", OrganisationKind.COMPETENT_AUTHORITY)
    return factories.user("odette@example.org", organisation=elsewhere, role=Role.DECISION_MAKER)


def _events(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


def _ask(dmitri: User, case: Case, question: str = "Where was she kept?") -> InformationRequest:
    return services.information_request_ask(
        by=dmitri, case=case, question=question, respond_by=timezone.localdate() + timedelta(7)
    )


def _rows(table: str, column: str, value: Any) -> list[tuple[Any, ...]]:
    """Every column of the rows, as the database holds them (ciphertext and all)."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT * FROM {quote(table)} WHERE {quote(column)} = %s ORDER BY id",  # noqa: S608
            [value],
        )
        return cursor.fetchall()


def _as_submitted(case: Case) -> dict[str, Any]:
    """What was submitted, byte for byte: the stored rows of the case, the person, their
    identity, the narrative, the screening and the original evidence, and the evidence files
    as they lie on disk."""
    from opennrm.cases.models import CaseNarrative, Person, PersonIdentity
    from opennrm.screening.models import Screening

    originals = EvidenceFile.objects.filter(case=case, addition__isnull=True)
    return {
        "case": _rows(Case._meta.db_table, "id", case.pk),
        "person": _rows(Person._meta.db_table, "id", case.person_id),
        "identity": _rows(PersonIdentity._meta.db_table, "person_id", case.person_id),
        "narrative": _rows(CaseNarrative._meta.db_table, "case_id", case.pk),
        "screening": _rows(Screening._meta.db_table, "id", case.screening_id),
        "evidence": [_rows(EvidenceFile._meta.db_table, "id", e.pk) for e in originals],
        "files": [Path(e.file.path).read_bytes() for e in originals],
        "decrypted": [(e.original_name, e.sha256, e.file.open("rb").read()) for e in originals],
    }


# --- Services -----------------------------------------------------------------------------------


def test_asking_tells_the_referrers_records_the_timeline_and_one_event(
    submitted: Case, dmitri: User, alice: User, bob: User, charlie: User
) -> None:
    before = AuditEvent.objects.count()
    asked = _ask(dmitri, submitted)
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.latest("pk")
    assert event.action == "information_request.asked"
    assert event.detail["notified"] == 2
    told = Notification.objects.filter(kind="information.requested")
    assert {n.recipient for n in told} == {alice, bob}
    assert "Where was she kept" not in " ".join(n.body + n.subject for n in told)
    assert submitted.events.filter(kind="information.requested").exists()
    assert asked.status == InformationRequestStatus.OPEN
    assert selectors.information_requests_open_count(Actor(alice)) == 1
    assert selectors.information_requests_open_count(Actor(charlie)) == 0
    assert selectors.information_requests_open_count(Actor(dmitri)) == 0


def test_asking_is_refused_without_a_question_a_future_date_or_the_right_role(
    submitted: Case, dmitri: User, alice: User, outsider_decider: User
) -> None:
    with pytest.raises(ValidationError) as empty:
        _ask(dmitri, submitted, question="  ")
    assert empty.value.message_dict == {"question": ["Enter what you need to know"]}
    with pytest.raises(ValidationError) as past:
        services.information_request_ask(
            by=dmitri, case=submitted, question="Q", respond_by=date(2000, 1, 1)
        )
    assert "respond_by" in past.value.message_dict
    for someone in (alice, outsider_decider):
        with pytest.raises(ValidationError, match="Only decision makers"):
            _ask(someone, submitted)
    assert not InformationRequest.objects.exists()


def test_answering_adds_information_and_evidence_marks_the_request_and_tells_the_authority(
    submitted: Case, dmitri: User, sally: User, alice: User
) -> None:
    asked = _ask(dmitri, submitted)
    before = AuditEvent.objects.count()
    addition = services.referral_addition_add(
        by=alice,
        case=submitted,
        text="She was kept in a flat above the car wash.",
        uploads=[SimpleUploadedFile("photo of the flat.png", PNG)],
        answers=asked,
        max_bytes=MAX,
    )
    assert AuditEvent.objects.count() == before + 1
    assert AuditEvent.objects.latest("pk").action == "referral.addition_added"
    asked.refresh_from_db()
    assert asked.status == InformationRequestStatus.ANSWERED
    (file,) = addition.evidence.all()
    assert file.original_name == "photo of the flat.png"
    assert file.case == submitted
    assert file.draft is None
    assert {
        n.recipient for n in Notification.objects.filter(kind="referral.information_added")
    } == {
        dmitri,
        sally,
    }
    assert selectors.information_requests_open_count(Actor(alice)) == 0
    assert selectors.additions_unseen_count(Actor(dmitri)) == 1
    assert selectors.additions_unseen_count(Actor(alice)) == 0
    before = AuditEvent.objects.count()
    services.referral_addition_mark_seen(by=dmitri, addition=addition)
    assert AuditEvent.objects.count() == before + 1
    assert selectors.additions_unseen_count(Actor(sally)) == 0
    with pytest.raises(ValidationError, match="already been answered"):
        services.referral_addition_add(
            by=alice, case=submitted, text="Again", answers=asked, max_bytes=MAX
        )


def test_an_addition_is_refused_for_others_for_empty_text_and_for_a_bad_file(
    submitted: Case, dmitri: User, charlie: User, alice: User
) -> None:
    for someone in (dmitri, charlie):
        with pytest.raises(ValidationError, match="Only first responders"):
            services.referral_addition_add(by=someone, case=submitted, text="x", max_bytes=MAX)
    with pytest.raises(ValidationError) as empty:
        services.referral_addition_add(by=alice, case=submitted, text=" ", max_bytes=MAX)
    assert empty.value.message_dict == {"text": ["Enter the information you are adding"]}
    for upload, message in (
        (SimpleUploadedFile("page.html", b"<html></html>"), "must be a PDF, JPEG or PNG"),
        (SimpleUploadedFile("big.pdf", PDF + b"0" * 100), "must be smaller than"),
    ):
        with pytest.raises(ValidationError) as bad:
            services.referral_addition_add(
                by=alice, case=submitted, text="x", uploads=[upload], max_bytes=len(PDF)
            )
        assert message in bad.value.message_dict["evidence"][0]
    assert not ReferralAddition.objects.exists()
    assert not EvidenceFile.objects.filter(addition__isnull=False).exists()


def test_withdrawing_a_request(submitted: Case, dmitri: User, alice: User, bob: User) -> None:
    asked = _ask(dmitri, submitted)
    with pytest.raises(ValidationError):
        services.information_request_withdraw(by=alice, request=asked)
    before = AuditEvent.objects.count()
    services.information_request_withdraw(by=dmitri, request=asked)
    assert AuditEvent.objects.count() == before + 1
    asked.refresh_from_db()
    assert asked.status == InformationRequestStatus.WITHDRAWN
    assert selectors.information_requests_open_count(Actor(alice)) == 0
    assert Notification.objects.filter(kind="information.withdrawn").count() == 2


def test_an_addition_never_changes_what_was_submitted(
    submitted: Case, dmitri: User, alice: User
) -> None:
    """Issue 12's acceptance: what the referral said is byte-identical after additions, with
    and without evidence, answering a request or not."""
    before = _as_submitted(submitted)
    assert before["evidence"]
    assert before["narrative"]
    assert before["identity"]
    asked = _ask(dmitri, submitted, question="Her full name, please?")
    services.referral_addition_add(
        by=alice,
        case=submitted,
        text="Her name is also spelt Zorika. Her date of birth may be 1998.",
        uploads=[SimpleUploadedFile("Zorica statement.pdf", PDF + b"% a second statement")],
        answers=asked,
        max_bytes=MAX,
    )
    services.referral_addition_add(
        by=alice, case=submitted, text="She has moved to a friend's.", max_bytes=MAX
    )
    after = _as_submitted(Case.objects.get(pk=submitted.pk))
    assert after == before
    assert submitted.evidence.count() == 2
    assert list(selectors.evidence_as_submitted(submitted)) == list(
        EvidenceFile.objects.filter(case=submitted, addition__isnull=True)
    )


def test_erasure_empties_the_questions_and_additions(
    submitted: Case, dmitri: User, alice: User
) -> None:
    asked = _ask(dmitri, submitted)
    services.referral_addition_add(
        by=alice,
        case=submitted,
        text="More.",
        uploads=[SimpleUploadedFile("more.pdf", PDF)],
        answers=asked,
        max_bytes=MAX,
    )
    removed = services.referral_records_pseudonymise([submitted.pk])
    assert removed["information_requests"] == 1
    assert removed["referral_additions"] == 1
    assert removed["evidence_files"] == 2
    assert InformationRequest.objects.get().question == ""
    assert ReferralAddition.objects.get().text == ""


# --- Pages --------------------------------------------------------------------------------------


def _reads(user: User) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(actor=user, action="person.viewed").order_by("pk"))


def _date_boxes(day: date) -> dict[str, str]:
    return {
        "respond_by_day": str(day.day),
        "respond_by_month": str(day.month),
        "respond_by_year": str(day.year),
    }


@pytest.mark.page("cases:information_request_ask")
def test_a_decision_maker_asks_the_referrer_from_the_case_page(
    submitted: Case, dmitri: User, alice: User, outsider_decider: User
) -> None:
    url = reverse("cases:information_request_ask", args=[submitted.reference])
    assert factories.signed_in_client(outsider_decider).get(url).status_code == 404
    assert factories.signed_in_client(alice).get(url).status_code == 404
    client = factories.signed_in_client(dmitri)
    assert client.put(url).status_code == 405
    assert "Ask the referrer for more information" in client.get(url).content.decode()
    later = timezone.localdate() + timedelta(days=10)
    html = client.post(url, {"question": "", **_date_boxes(later)}).content.decode()
    assert "Enter what you need to know" in html
    assert f'value="{later.year}"' in html
    html = client.post(
        url, {"question": "Which car wash?", **_date_boxes(date(2020, 1, 1))}
    ).content.decode()
    assert "The date to answer by must be today or in the future" in html
    assert "Which car wash?" in html
    assert _reads(dmitri)[-1].detail["fields"] == ["information_request"]
    response = client.post(url, {"question": "Which car wash?", **_date_boxes(later)})
    assert response.status_code == 302
    asked = InformationRequest.objects.get()
    assert (asked.question, asked.respond_by, asked.asked_by) == ("Which car wash?", later, dmitri)
    page = client.get(reverse("cases:detail", args=[submitted.reference])).content.decode()
    assert "Which car wash?" in page
    assert "information_requests" in _reads(dmitri)[-1].detail["fields"]


@pytest.mark.page("cases:information_request_answer")
def test_the_referrer_answers_a_request_with_evidence(
    submitted: Case, dmitri: User, alice: User, charlie: User, outsider_decider: User, settings
) -> None:
    asked = _ask(dmitri, submitted, question="Which car wash?")
    url = reverse("cases:information_request_answer", args=[submitted.reference, asked.pk])
    for outsider in (charlie, outsider_decider, dmitri):
        assert factories.signed_in_client(outsider).get(url).status_code == 404
    client = factories.signed_in_client(alice)
    assert client.put(url).status_code == 405
    html = client.get(url).content.decode()
    assert "Which car wash?" in html
    assert _reads(alice)[-1].detail["fields"] == ["information_request"]
    typed = "The one on the ring road, by the roundabout."
    settings.EVIDENCE_MAX_BYTES = 1024
    for upload, message in (
        (SimpleUploadedFile("notes.txt", b"just text"), "must be a PDF, JPEG or PNG"),
        (SimpleUploadedFile("big.pdf", PDF + b"0" * 2000), "must be smaller than 0 MB"),
        (SimpleUploadedFile("empty.pdf", b""), "The selected file is empty"),
    ):
        html = client.post(url, {"text": typed, "evidence": [upload]}).content.decode()
        assert message in html, message
        assert typed in html
        assert "Your text has been kept: select the files again" in html
    html = client.post(url, {"text": ""}).content.decode()
    assert "Enter the information you are adding" in html
    assert not ReferralAddition.objects.exists()
    response = client.post(
        url,
        {
            "text": typed,
            "evidence": [
                SimpleUploadedFile("car wash.png", PNG),
                SimpleUploadedFile("receipt.pdf", PDF),
            ],
        },
    )
    assert response.status_code == 302
    addition = ReferralAddition.objects.get()
    assert addition.answers == asked
    assert addition.text == typed
    assert sorted(e.original_name for e in addition.evidence.all()) == [
        "car wash.png",
        "receipt.pdf",
    ]
    asked.refresh_from_db()
    assert asked.status == InformationRequestStatus.ANSWERED
    # Answered: the page sends them back to the case instead of taking a second answer.
    assert client.get(url).status_code == 302


@pytest.mark.page("cases:addition_add")
def test_the_referrer_adds_information_of_its_own_accord(
    submitted: Case, dmitri: User, alice: User, charlie: User
) -> None:
    url = reverse("cases:addition_add", args=[submitted.reference])
    assert factories.signed_in_client(charlie).get(url).status_code == 404
    assert factories.signed_in_client(dmitri).get(url).status_code == 404
    client = factories.signed_in_client(alice)
    assert client.put(url).status_code == 405
    assert "Add information" in client.get(url).content.decode()
    assert client.post(url, {"text": "She has a new phone."}).status_code == 302
    addition = ReferralAddition.objects.get()
    assert addition.answers is None
    assert addition.added_by == alice
    case_page = reverse("cases:detail", args=[submitted.reference])
    html = factories.signed_in_client(dmitri).get(case_page).content.decode()
    assert "She has a new phone." in html
    assert "Mark as read" in html
    assert "additions" in _reads(dmitri)[-1].detail["fields"]


@pytest.mark.page("cases:information_request_withdraw")
def test_a_decision_maker_withdraws_a_request(
    submitted: Case, dmitri: User, outsider_decider: User
) -> None:
    asked = _ask(dmitri, submitted)
    url = reverse("cases:information_request_withdraw", args=[submitted.reference, asked.pk])
    assert factories.signed_in_client(outsider_decider).post(url).status_code == 404
    client = factories.signed_in_client(dmitri)
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 302
    asked.refresh_from_db()
    assert asked.status == InformationRequestStatus.WITHDRAWN


@pytest.mark.page("cases:addition_seen")
def test_a_decision_maker_marks_an_addition_read(
    submitted: Case, dmitri: User, alice: User, outsider_decider: User
) -> None:
    addition = services.referral_addition_add(by=alice, case=submitted, text="More.", max_bytes=MAX)
    url = reverse("cases:addition_seen", args=[submitted.reference, addition.pk])
    assert factories.signed_in_client(outsider_decider).post(url).status_code == 404
    client = factories.signed_in_client(dmitri)
    assert client.get(url).status_code == 405
    assert selectors.additions_unseen_count(Actor(dmitri)) == 1
    assert client.post(url).status_code == 302
    addition.refresh_from_db()
    assert addition.seen_by == dmitri
    assert selectors.additions_unseen_count(Actor(dmitri)) == 0


def _indicator_text(case: Case, code: str) -> str:
    assert case.screening is not None
    listed = case.screening.catalogue.parsed().list(case.screening.list_key)
    assert listed is not None
    indicator = listed.get(code)
    assert indicator is not None
    return str(indicator.text)


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.mark.page("cases:referral_copy")
def test_the_referrer_downloads_a_copy_of_the_referral_as_submitted_with_the_additions_apart(
    submitted: Case, dmitri: User, alice: User, charlie: User
) -> None:
    url = reverse("cases:referral_copy", args=[submitted.reference])
    for outsider in (charlie, dmitri):
        assert factories.signed_in_client(outsider).get(url).status_code == 404
    client = factories.signed_in_client(alice)
    assert client.post(url).status_code == 405
    asked = _ask(dmitri, submitted, question="Which car wash?")
    services.referral_addition_add(
        by=alice,
        case=submitted,
        text="The one on the ring road.",
        uploads=[SimpleUploadedFile("car wash.png", PNG)],
        answers=asked,
        max_bytes=MAX,
    )
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f"referral-{submitted.reference}.pdf" in response["Content-Disposition"]
    text = _pdf_text(response.content)
    submitted_part, added_part = text.split("Added after submission", 1)
    for said in (
        submitted.reference,
        "Zorica Testova Fictitious",
        "14 March 1999",
        r.ACCOUNT["persons_account"],
        "A car wash on the ring road",
        "Zorica statement.pdf",
        "Consents to the referral",
        "Under 18 when it began",
        "AL-DR-01",
        # The indicator as the catalogue words it (its first words: the PDF wraps lines).
        " ".join(_indicator_text(submitted, "AL-EX-01").split()[:3]),
    ):
        assert said in submitted_part, said
    for added in ("Which car wash?", "The one on the ring road.", "car wash.png"):
        assert added in added_part, added
        assert added not in submitted_part, added
    read = AuditEvent.objects.filter(actor=alice, action="person.exported").latest("pk")
    assert read.person_id == submitted.person_id
    assert read.detail["document"] == {"type": "referrals.referraldraft", "id": submitted.draft.pk}
    assert "persons_account" in read.detail["fields"]


def test_the_case_page_shows_requests_and_additions_in_order_and_added_evidence_apart(
    submitted: Case, dmitri: User, alice: User
) -> None:
    asked = _ask(dmitri, submitted, question="First question")
    services.referral_addition_add(
        by=alice,
        case=submitted,
        text="First answer",
        uploads=[SimpleUploadedFile("added later.pdf", PDF)],
        answers=asked,
        max_bytes=MAX,
    )
    _ask(dmitri, submitted, question="Second question")
    html = (
        factories.signed_in_client(alice)
        .get(reverse("cases:detail", args=[submitted.reference]))
        .content.decode()
    )
    assert html.index("First question") < html.index("First answer") < html.index("Second question")
    evidence_section = html[html.index(">Evidence</h2>") : html.index("Added after submission")]
    assert "Zorica statement.pdf" in evidence_section
    assert "added later.pdf" not in evidence_section
    assert "Answer this request" in html
    assert "Download a copy of the referral as submitted" in html
    fields = _reads(alice)[-1].detail["fields"]
    assert {"information_requests", "additions", "evidence_names"} <= set(fields)


@override_settings(DEMO=True)
def test_the_demo_has_an_open_request_and_one_answered_with_an_addition(db: None, tmp_path) -> None:
    with override_settings(PRIVATE_FILES_DIR=tmp_path):
        call_command("demo_data", stdout=io.StringIO())
        call_command("demo_data", stdout=io.StringIO())
    statuses = sorted(InformationRequest.objects.values_list("status", flat=True))
    assert statuses == [InformationRequestStatus.ANSWERED, InformationRequestStatus.OPEN]
    (addition,) = ReferralAddition.objects.all()
    assert addition.answers is not None
    assert addition.answers.status == InformationRequestStatus.ANSWERED
    responder = User.objects.get(email="responder@demo.opennrm.test")
    decider = User.objects.get(email="decisions@demo.opennrm.test")
    assert selectors.information_requests_open_count(Actor(responder)) == 1
    assert selectors.additions_unseen_count(Actor(decider)) == 1


def test_the_subject_access_export_holds_the_requests_and_additions(
    submitted: Case, dmitri: User, alice: User
) -> None:
    from opennrm.privacy.selectors import subject_access_data

    asked = _ask(dmitri, submitted, question="Which car wash?")
    services.referral_addition_add(
        by=alice,
        case=submitted,
        text="The one on the ring road.",
        uploads=[SimpleUploadedFile("car wash.png", PNG)],
        answers=asked,
        max_bytes=MAX,
    )
    (case,) = subject_access_data(submitted.person)["cases"]
    assert [r["question"] for r in case["information_requests"]] == ["Which car wash?"]
    assert case["additions"][0]["text"] == "The one on the ring road."
    assert case["additions"][0]["evidence_file_names"] == ["car wash.png"]


@pytest.mark.page("referrals:additions_unseen")
def test_the_authority_lists_additions_not_yet_read_without_their_text(
    submitted: Case, alice: User, dmitri: User, outsider_decider: User
) -> None:
    url = reverse("referrals:additions_unseen")
    client = factories.signed_in_client(dmitri)
    assert "Nothing added to your authority's referrals" in client.get(url).content.decode()
    addition = services.referral_addition_add(
        by=alice, case=submitted, text="She was kept above the car wash.", max_bytes=MAX
    )
    page = client.get(url).content.decode()
    assert submitted.reference in page
    # A list: references and dates, never the text or a name, so no read to record.
    assert "car wash" not in page
    assert "Zorica" not in page
    # Another authority's decision maker sees nothing of it.
    assert (
        submitted.reference
        not in factories.signed_in_client(outsider_decider).get(url).content.decode()
    )
    # The referrer's role may not open the page at all; nor may the page be posted to.
    assert factories.signed_in_client(alice).get(url).status_code == 404
    assert client.post(url).status_code == 405
    services.referral_addition_mark_seen(by=dmitri, addition=addition)
    assert submitted.reference not in client.get(url).content.decode()


def test_the_referrers_page_lists_questions_waiting_and_the_homes_count_them(
    submitted: Case, alice: User, dmitri: User, charlie: User
) -> None:
    home_of = lambda user: factories.signed_in_client(user).get("/").content.decode()  # noqa: E731
    question = "1 question from the competent authority waiting for your answer"
    assert question not in home_of(alice)
    asked = _ask(dmitri, submitted, "Where was she kept?")
    assert question in home_of(alice)
    assert question not in home_of(charlie)  # another police force
    listing = factories.signed_in_client(alice).get(reverse("referrals:my_referrals"))
    page = listing.content.decode()
    assert "Questions waiting for your answer" in page
    assert submitted.reference in page
    assert "Where was she kept" not in page  # read on the case page, where it is recorded

    added = "1 addition to a referral not yet read"
    assert added not in home_of(dmitri)
    addition = services.referral_addition_add(
        by=alice, case=submitted, text="In a flat.", answers=asked, max_bytes=MAX
    )
    assert question not in home_of(alice)
    assert added in home_of(dmitri)
    services.referral_addition_mark_seen(by=dmitri, addition=addition)
    assert added not in home_of(dmitri)
