"""Case notes and tasks (issue 12, item 6): who writes and reads each note, tasks owned within
the creator's organisation, the pages under the case, My tasks, and their erasure and export."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import AgeGroup
from opennrm.cases.models import Case
from opennrm.casework import selectors, services
from opennrm.casework.models import CaseNote, CaseTask, TaskStatus, Visibility
from opennrm.privacy import selectors as privacy_selectors

from . import case_factories, factories

OWN = Visibility.OWN_ORGANISATION
SHARED = Visibility.COMPETENT_AUTHORITY
CHILDRENS = Visibility.CHILDRENS_SERVICES


def _reads(user: User, field: str) -> list[AuditEvent]:
    return [
        event
        for event in AuditEvent.objects.filter(actor=user, action="person.viewed")
        if field in event.detail["fields"]
    ]


def _note(by: User, case: Case, text: str, visibility: str = OWN) -> CaseNote:
    return services.case_note_add(by=by, case=case, text=text, visibility=visibility)


def _task(by: User, case: Case, owner: User, *, due_on: date | None = None) -> CaseTask:
    return services.case_task_add(
        by=by,
        case=case,
        title="Ask the GP surgery for the medical report",
        owner=owner,
        due_on=due_on or timezone.localdate(),
    )


def _parts(prefix: str, day: date) -> dict[str, str]:
    return {
        f"{prefix}_day": str(day.day),
        f"{prefix}_month": str(day.month),
        f"{prefix}_year": str(day.year),
    }


@pytest.fixture
def child_case(alice: User, northmoor_police: Organisation, authority: Organisation) -> Case:
    return case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.PRESUMED_CHILD,
        given_names="Mira Testova",
    )


@pytest.fixture
def outsider_decider(db: None) -> User:
    elsewhere = factories.organisation("Other Authority", OrganisationKind.COMPETENT_AUTHORITY)
    return factories.user("odette@example.org", organisation=elsewhere, role=Role.DECISION_MAKER)


# --- Who reads which note ----------------------------------------------------------------------


class TestVisibility:
    def test_an_own_organisation_note_is_never_shown_to_the_competent_authority(
        self, case: Case, alice: User, bob: User, dmitri: User
    ) -> None:
        _note(alice, case, "Her brother may know where the controller lives.", OWN)
        assert [n.text for n in selectors.notes_visible_to(Actor(bob), case)] == [
            "Her brother may know where the controller lives."
        ]
        assert list(selectors.notes_visible_to(Actor(dmitri), case)) == []
        page = factories.signed_in_client(dmitri).get(f"/cases/{case.reference}/notes/")
        assert "Her brother" not in page.content.decode()
        assert "There are no notes you can read" in page.content.decode()
        detail = factories.signed_in_client(dmitri).get(f"/cases/{case.reference}/")
        assert "Notes (0)" in detail.content.decode()

    def test_and_the_competent_authoritys_own_notes_are_never_shown_to_the_referrer(
        self, case: Case, alice: User, dmitri: User, sally: User
    ) -> None:
        _note(dmitri, case, "Account consistent with the interview.", OWN)
        assert list(selectors.notes_visible_to(Actor(alice), case)) == []
        assert len(selectors.notes_visible_to(Actor(sally), case)) == 1
        page = factories.signed_in_client(alice).get(f"/cases/{case.reference}/notes/")
        assert "Account consistent" not in page.content.decode()

    def test_a_note_shared_with_the_competent_authority_is_shown_to_it(
        self, case: Case, alice: User, dmitri: User, charlie: User, outsider_decider: User
    ) -> None:
        _note(alice, case, "Interview arranged for Tuesday.", SHARED)
        assert len(selectors.notes_visible_to(Actor(dmitri), case)) == 1
        page = factories.signed_in_client(dmitri).get(f"/cases/{case.reference}/notes/")
        assert "Interview arranged for Tuesday." in page.content.decode()
        assert "Northmoor Police and the competent authority" in page.content.decode()
        # Nobody else who cannot open the case reaches it at all.
        for outsider in (charlie, outsider_decider):
            client = factories.signed_in_client(outsider)
            assert client.get(f"/cases/{case.reference}/notes/").status_code == 404

    def test_childrens_services_read_only_what_is_shared_with_them(
        self, child_case: Case, alice: User, dmitri: User, lena: User, gail: User
    ) -> None:
        _note(alice, child_case, "Own.", OWN)
        _note(alice, child_case, "For the authority.", SHARED)
        _note(alice, child_case, "For everyone safeguarding her.", CHILDRENS)
        _note(dmitri, child_case, "Authority to children's services.", CHILDRENS)
        for lead in (lena, gail):
            assert sorted(n.text for n in selectors.notes_visible_to(Actor(lead), child_case)) == [
                "Authority to children's services.",
                "For everyone safeguarding her.",
            ]
        assert sorted(n.text for n in selectors.notes_visible_to(Actor(dmitri), child_case)) == [
            "Authority to children's services.",
            "For everyone safeguarding her.",
            "For the authority.",
        ]
        # The authority's note shared with children's services is not the referrer's to read.
        assert sorted(n.text for n in selectors.notes_visible_to(Actor(alice), child_case)) == [
            "For everyone safeguarding her.",
            "For the authority.",
            "Own.",
        ]
        # A safeguarding lead's own note stays with their organisation.
        _note(lena, child_case, "Placement with foster carers agreed.", OWN)
        assert "Placement with foster carers agreed." not in [
            n.text for n in selectors.notes_visible_to(Actor(gail), child_case)
        ]

    def test_the_choices_offered_are_those_of_the_authors_organisation_and_the_case(
        self,
        case: Case,
        child_case: Case,
        northmoor_police: Organisation,
        authority: Organisation,
        lena: User,  # children's services in the child's area, who read what is shared
    ) -> None:
        assert [v for v, _ in selectors.visibility_choices(case, northmoor_police)] == [OWN, SHARED]
        assert [v for v, _ in selectors.visibility_choices(case, authority)] == [OWN]
        assert [v for v, _ in selectors.visibility_choices(child_case, authority)] == [
            OWN,
            CHILDRENS,
        ]
        assert [v for v, _ in selectors.visibility_choices(child_case, northmoor_police)] == [
            OWN,
            SHARED,
            CHILDRENS,
        ]

    def test_sharing_with_childrens_services_is_refused_on_an_adults_case(
        self, case: Case, alice: User
    ) -> None:
        with pytest.raises(ValidationError) as refused:
            _note(alice, case, "Hello.", CHILDRENS)
        assert refused.value.message_dict == {"visibility": ["Select who may read the note"]}
        assert not CaseNote.objects.exists()

    def test_a_note_cannot_be_changed_once_written(self, case: Case, alice: User) -> None:
        """Append-only (ADR 0027): the app has no service that edits or deletes a note."""
        names = {n for n in dir(services) if n.startswith("case_note_")}
        assert names == {"case_note_add"}


# --- Pages ------------------------------------------------------------------------------------


@pytest.mark.page("cases:notes")
def test_the_notes_page_shows_notes_and_tasks_and_records_the_read(
    case: Case, alice: User, bob: User, charlie: User
) -> None:
    _note(alice, case, "Spoke to her solicitor.", SHARED)
    _task(alice, case, bob)
    url = f"/cases/{case.reference}/notes/"
    client = factories.signed_in_client(bob)
    assert client.put(url).status_code == 405
    assert factories.signed_in_client(charlie).get(url).status_code == 404
    assert _reads(bob, "case_notes") == []
    page = client.get(url).content.decode()
    assert "Spoke to her solicitor." in page
    assert "Ask the GP surgery for the medical report" in page
    assert "Due today" in page
    (read,) = _reads(bob, "case_notes")
    assert read.detail["fields"] == ["case_notes", "task_titles"]
    assert read.person_id == case.person_id


def test_the_case_page_links_to_notes_and_tasks_with_counts_and_shows_no_text(
    case: Case, alice: User, bob: User
) -> None:
    _note(alice, case, "Spoke to her solicitor.", OWN)
    _note(alice, case, "Second note.", OWN)
    _task(alice, case, bob)
    done = _task(alice, case, alice)
    services.case_task_done(by=alice, task=done)
    page = factories.signed_in_client(bob).get(f"/cases/{case.reference}/").content.decode()
    assert "Notes (2)" in page
    assert 'Tasks (1<span class="govuk-visually-hidden"> open</span>)' in page
    assert f"/cases/{case.reference}/notes/" in page
    assert "Spoke to her solicitor." not in page


@pytest.mark.page("cases:note_add")
def test_adding_a_note(case: Case, alice: User, charlie: User) -> None:
    url = f"/cases/{case.reference}/notes/new/"
    client = factories.signed_in_client(alice)
    assert client.put(url).status_code == 405
    outsider = factories.signed_in_client(charlie)
    assert outsider.get(url).status_code == 404
    assert outsider.post(url, {"text": "x", "visibility": OWN}).status_code == 404
    form = client.get(url).content.decode()
    assert "Only Northmoor Police" in form
    assert "Northmoor Police and the competent authority (Test Competent Authority)" in form
    assert "children&#39;s services" not in form  # an adult's case
    response = client.post(url, {"text": "  Met her at the station.  ", "visibility": SHARED})
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{case.reference}/notes/"
    note = CaseNote.objects.get()
    assert (note.text, note.visibility, note.author, note.organisation.name) == (
        "Met her at the station.",
        SHARED,
        alice,
        "Northmoor Police",
    )
    # The text is encrypted at rest.
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM casework_casenote")
        ((stored,),) = cursor.fetchall()
    assert "station" not in stored


class TestBadNotes:
    def test_an_empty_note_says_so(self, case: Case, alice: User) -> None:
        client = factories.signed_in_client(alice)
        page = client.post(
            f"/cases/{case.reference}/notes/new/", {"text": "   ", "visibility": SHARED}
        ).content.decode()
        assert "Enter the note" in page
        assert not CaseNote.objects.exists()

    def test_a_note_too_long_is_refused_and_kept(self, case: Case, alice: User) -> None:
        text = "word " * 1001
        page = (
            factories.signed_in_client(alice)
            .post(f"/cases/{case.reference}/notes/new/", {"text": text, "visibility": OWN})
            .content.decode()
        )
        assert "The note must be 5,000 characters or fewer" in page
        assert text.strip() in page
        assert not CaseNote.objects.exists()

    def test_who_may_read_it_must_be_chosen_and_the_text_is_kept(
        self, case: Case, alice: User
    ) -> None:
        page = (
            factories.signed_in_client(alice)
            .post(f"/cases/{case.reference}/notes/new/", {"text": "Kept as typed."})
            .content.decode()
        )
        assert "Select who may read the note" in page
        assert "Kept as typed." in page

    def test_nothing_is_added_once_the_persons_details_are_erased(
        self, case: Case, alice: User, dpo: User
    ) -> None:
        case_factories_close(case)
        factories.person_erased(
            case.person,
            recorded_by=dpo,
            request_reference="SAR-1",
            request_received_on=timezone.localdate(),
        )
        with pytest.raises(ValidationError, match="erased"):
            _note(alice, Case.objects.get(pk=case.pk), "After.")


def case_factories_close(case: Case) -> None:
    Case.objects.filter(pk=case.pk).update(status="closed", closed_at=timezone.now())


@pytest.mark.page("cases:task_add")
def test_adding_a_task_for_a_colleague(case: Case, alice: User, bob: User, charlie: User) -> None:
    url = f"/cases/{case.reference}/tasks/new/"
    client = factories.signed_in_client(alice)
    assert client.put(url).status_code == 405
    assert factories.signed_in_client(charlie).get(url).status_code == 404
    form = client.get(url).content.decode()
    assert "Bob Brown" in form
    assert "Alice Adams" in form
    due = timezone.localdate() + timedelta(days=3)
    response = client.post(
        url, {"title": "Book an interpreter", "owner": str(bob.pk), **_parts("due_on", due)}
    )
    assert response.status_code == 302
    task = CaseTask.objects.get()
    assert (task.title, task.owner, task.due_on, task.status, task.organisation.name) == (
        "Book an interpreter",
        bob,
        due,
        TaskStatus.OPEN,
        "Northmoor Police",
    )


class TestBadTasks:
    def test_the_owner_must_be_in_the_creators_organisation(
        self, case: Case, alice: User, dmitri: User, charlie: User
    ) -> None:
        client = factories.signed_in_client(alice)
        form = client.get(f"/cases/{case.reference}/tasks/new/").content.decode()
        assert "Dmitri" not in form
        for stranger in (dmitri, charlie):
            page = client.post(
                f"/cases/{case.reference}/tasks/new/",
                {
                    "title": "Book an interpreter",
                    "owner": str(stranger.pk),
                    **_parts("due_on", timezone.localdate()),
                },
            ).content.decode()
            assert "Choose someone in Northmoor Police who can open this case to own the task" in (
                page
            )
            assert "Book an interpreter" in page
        with pytest.raises(ValidationError) as refused:
            _task(alice, case, dmitri)
        assert list(refused.value.message_dict) == ["owner"]
        assert not CaseTask.objects.exists()

    def test_a_due_date_in_the_past_is_refused_and_what_was_typed_kept(
        self, case: Case, alice: User
    ) -> None:
        yesterday = timezone.localdate() - timedelta(days=1)
        page = (
            factories.signed_in_client(alice)
            .post(
                f"/cases/{case.reference}/tasks/new/",
                {"title": "Ring her", "owner": str(alice.pk), **_parts("due_on", yesterday)},
            )
            .content.decode()
        )
        assert "The due date must be today or later" in page
        assert 'value="Ring her"' in page
        assert f'value="{yesterday.year}"' in page
        assert not CaseTask.objects.exists()

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"title": ""}, "Enter what needs doing"),
            ({"title": "x" * 201}, "What needs doing must be 200 characters or fewer"),
            ({"due_on_day": "", "due_on_month": "", "due_on_year": ""}, "Enter the due date"),
            ({"due_on_day": "31", "due_on_month": "2"}, "Due date must be a real date"),
            ({"due_on_year": "2099"}, "The due date must be within 2 years"),
            ({"owner": ""}, "Choose who owns the task"),
        ],
    )
    def test_bad_input_gets_a_specific_message(
        self, case: Case, alice: User, data: dict[str, str], message: str
    ) -> None:
        today = timezone.localdate()
        post = {"title": "Ring her", "owner": str(alice.pk), **_parts("due_on", today)} | data
        page = (
            factories.signed_in_client(alice)
            .post(f"/cases/{case.reference}/tasks/new/", post)
            .content.decode()
        )
        assert message in page
        assert not CaseTask.objects.exists()


@pytest.mark.page("cases:task_done")
def test_marking_a_task_done(
    case: Case, alice: User, bob: User, dmitri: User, charlie: User
) -> None:
    task = _task(alice, case, bob)
    url = f"/cases/{case.reference}/tasks/{task.pk}/done/"
    client = factories.signed_in_client(bob)
    assert client.get(url).status_code == 405
    # Outsiders, and the competent authority (which may open the case but not Northmoor's
    # tasks), get 404.
    assert factories.signed_in_client(charlie).post(url).status_code == 404
    assert factories.signed_in_client(dmitri).post(url).status_code == 404
    assert f"/cases/{case.reference}/notes/" in client.post(url)["Location"]
    task.refresh_from_db()
    assert (task.status, task.done_by) == (TaskStatus.DONE, bob)
    assert task.done_at is not None
    again = client.post(url, follow=True).content.decode()
    assert "This task has already been marked done" in again


def test_the_competent_authority_does_not_see_the_referrers_tasks(
    case: Case, alice: User, dmitri: User, sally: User
) -> None:
    _task(alice, case, alice)
    assert list(selectors.tasks_on_case(Actor(dmitri), case)) == []
    _task(dmitri, case, sally)
    assert [t.owner for t in selectors.tasks_on_case(Actor(dmitri), case)] == [sally]
    page = factories.signed_in_client(dmitri).get(f"/cases/{case.reference}/notes/")
    assert page.content.decode().count("Ask the GP surgery") == 1


@pytest.mark.page("casework:my_tasks")
def test_my_tasks_lists_my_open_tasks_overdue_first(
    alice: User, bob: User, charlie: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    def new_case() -> Case:
        return case_factories.case(
            referred_by=alice, referring_organisation=northmoor_police, authority=authority
        )

    first, second = new_case(), new_case()
    today = timezone.localdate()
    later = _task(alice, first, bob, due_on=today + timedelta(days=5))
    due = _task(alice, second, bob, due_on=today)
    overdue = CaseTask.objects.create(
        case=first,
        organisation=northmoor_police,
        created_by=alice,
        created_at=timezone.now(),
        title="Overdue one",
        owner=bob,
        due_on=today - timedelta(days=2),
    )
    done = _task(alice, second, bob)
    services.case_task_done(by=bob, task=done)
    _task(alice, first, alice)  # Alice's, not Bob's
    assert [t.pk for t in selectors.tasks_for(Actor(bob))] == [overdue.pk, due.pk, later.pk]
    assert selectors.tasks_due_count(Actor(bob)) == 2
    assert selectors.tasks_due_count(Actor(alice)) == 1

    client = factories.signed_in_client(bob)
    assert client.put("/tasks/").status_code == 405
    page = client.get("/tasks/").content.decode()
    days = [f"{d:%-d %B %Y}" for d in (overdue.due_on, due.due_on, later.due_on)]
    assert page.index(days[0]) < page.index(days[1]) < page.index(days[2])
    assert "Overdue" in page
    assert "Due today" in page
    # One read for each person whose tasks were shown.
    assert {e.person_id for e in _reads(bob, "task_titles")} == {
        first.person_id,
        second.person_id,
    }
    outsider = factories.signed_in_client(charlie).get("/tasks/").content.decode()
    assert "You have no open tasks" in outsider
    assert "Overdue one" not in outsider
    # Someone who has left the organisation no longer sees its tasks.
    bob.memberships.update(is_active=False)
    assert selectors.tasks_due_count(Actor(bob)) == 0


def test_my_tasks_is_on_the_home_page_of_those_who_own_tasks(
    people_in_every_role: dict[Role, User],
) -> None:
    for role, person in people_in_every_role.items():
        page = factories.signed_in_client(person).get("/").content.decode()
        owns = role in selectors.CASE_ROLES
        assert ('href="/tasks/"' in page) == owns, role


# --- Erasure and subject access -----------------------------------------------------------------


def test_erasure_empties_notes_and_task_titles_and_the_export_holds_them(
    case: Case, alice: User, dmitri: User, dpo: User
) -> None:
    _note(alice, case, "Lives with her aunt in Eastbridge.", OWN)
    _note(dmitri, case, "Interview notes.", OWN)
    _task(alice, case, alice)
    exported = privacy_selectors.subject_access_data(case.person)
    (case_data,) = exported["cases"]
    assert [n["text"] for n in case_data["casework"]["notes"]] == [
        "Lives with her aunt in Eastbridge.",
        "Interview notes.",
    ]
    assert case_data["casework"]["tasks"][0]["title"] == "Ask the GP surgery for the medical report"
    assert "case_notes" in privacy_selectors.EXPORTED_FIELDS

    case_factories_close(case)
    factories.person_erased(
        case.person,
        recorded_by=dpo,
        request_reference="SAR-1",
        request_received_on=timezone.localdate(),
    )
    assert [note.text for note in CaseNote.objects.all()] == ["", ""]
    assert [task.title for task in CaseTask.objects.all()] == [""]
    assert CaseNote.objects.count() == 2
    page = factories.signed_in_client(alice).get(f"/cases/{case.reference}/notes/")
    body = page.content.decode()
    assert "Removed with the person&#39;s identifying details" in body
    assert "Add a note" not in body
    assert _reads(alice, "case_notes") == []


def test_a_user_without_a_role_on_the_case_cannot_write(
    case: Case, charlie: User, outsider_decider: User
) -> None:
    for outsider in (charlie, outsider_decider):
        with pytest.raises(ValidationError, match="Only people who may open this case"):
            _note(outsider, case, "Sneaky.")
    assert not CaseNote.objects.exists()


@override_settings(DEMO=True)
def test_the_demo_has_notes_and_tasks(db: None) -> None:
    call_command("demo_data")
    counts = (CaseNote.objects.count(), CaseTask.objects.count())
    assert counts[0] >= 4
    assert counts[1] >= 2
    call_command("demo_data")
    assert (CaseNote.objects.count(), CaseTask.objects.count()) == counts
    assert CaseNote.objects.filter(visibility=Visibility.CHILDRENS_SERVICES).exists()


FOSTER_VISIT = "Visit the foster placement on Dunmarsh Road"


def test_my_tasks_hides_a_task_of_an_organisation_the_owner_no_longer_works_the_case_for(
    child_case: Case, council: Organisation
) -> None:
    """A task is seen only by the organisation it belongs to, through a role on the case
    (ADR 0027). Uma was a safeguarding lead at the council and at the guardian service; her
    council role ended (she still administers the council's accounts). The case's notes page
    no longer shows her the council's task, "My tasks" and the home-page counter still do,
    and "My tasks" and the home-page counter must agree (`tasks_for`: a membership in a role
    that works cases)."""
    guardians = factories.organisation(
        "Testshire Guardians", OrganisationKind.CHILD_GUARDIAN_SERVICE, area="Testshire"
    )
    uma = factories.user("uma@example.org", organisation=council, role=Role.SAFEGUARDING_LEAD)
    Membership.objects.create(user=uma, organisation=guardians, role=Role.SAFEGUARDING_LEAD)
    Membership.objects.create(user=uma, organisation=council, role=Role.ORGANISATION_ADMIN)
    task = services.case_task_add(
        by=uma, case=child_case, title=FOSTER_VISIT, owner=uma, due_on=timezone.localdate()
    )
    assert task.organisation == council
    Membership.objects.filter(user=uma, organisation=council, role=Role.SAFEGUARDING_LEAD).update(
        is_active=False
    )

    # The case's own page applies the rule: the council's task is no longer hers to see.
    assert list(selectors.tasks_on_case(Actor(uma), child_case)) == []
    # "My tasks" must agree.
    assert list(selectors.tasks_for(Actor(uma))) == []
    page = factories.signed_in_client(uma).get("/tasks/").content.decode()
    assert FOSTER_VISIT not in page
