"""The children's pathway (issue 12, item 1).

- A child's, or an age-disputed person's, accommodation need never becomes a placement request
  for adult matching, on any path that makes one (the referral's pages and API, the
  coordinator's page, the services): it becomes a task of the local authority of their area,
  whose safeguarding leads and the area's child trafficking guardian service are told, and the
  person who asked is told so.
- The local authority's caseload: the children of its area with what needs doing today, by
  reference; a task marked done with what was done; the task shows what the first responder
  wrote of the child's immediate needs and safety, and the case's safety profile, with the read
  recorded, as the adult pathway shows them to whoever places the person.
- Age assessment: its outcome, date and reasons recorded; an adult moves to the adult pathway
  only through it (the one code that changes an age group), and the decision maker and the
  referrer are told.
"""

from __future__ import annotations

import ast
import inspect
import pathlib
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import timezone

import opennrm
from opennrm.accommodation import services as accommodation
from opennrm.accommodation.models import PlacementRequest
from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import AgeGroup
from opennrm.cases.models import Case, CaseEvent
from opennrm.notifications.models import Notification
from opennrm.safeguarding import selectors, services
from opennrm.safeguarding.models import AgeAssessment, ChildrenServicesTask, TaskStatus
from opennrm.safety import services as safety

from . import api_helpers as a
from . import case_factories, factories
from . import referral_helpers as r
from . import support_factories as s

CHILDREN = [AgeGroup.CHILD, AgeGroup.PRESUMED_CHILD]
NAME = "Minor Example"


@pytest.fixture
def new_case(alice: User, northmoor_police: Organisation, authority: Organisation) -> Any:
    def make(**fields: Any) -> Case:
        return case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            given_names=NAME,
            **fields,
        )

    return make


@pytest.fixture
def elsewhere_lead(db: None) -> User:
    """A safeguarding lead of another area's local authority: an outsider to Testshire."""
    other = factories.organisation(
        "Otherby Council", OrganisationKind.LOCAL_AUTHORITY, area="Otherby"
    )
    return factories.user("elsa@example.org", organisation=other, role=Role.SAFEGUARDING_LEAD)


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


def told(case: Case) -> set[int]:
    return set(
        Notification.objects.filter(case=case, kind="children.accommodation_needed").values_list(
            "recipient", flat=True
        )
    )


def task_for(case: Case, **fields: Any) -> ChildrenServicesTask:
    task, _ = services.children_accommodation_task_open(
        case=case,
        needs=["A safe place to stay tonight"],
        due_on=fields.pop("due_on", timezone.localdate()),
        by=None,
    )
    return task


# --- Every path that makes a placement request: a child's need goes to the local authority ----


class TestAChildsNeedGoesToTheLocalAuthority:
    @pytest.mark.parametrize("age_group", CHILDREN)
    def test_the_coordinators_service_makes_a_task_never_a_request(
        self,
        cora: User,
        lena: User,
        gail: User,
        council: Organisation,
        new_case: Any,
        age_group: str,
    ) -> None:
        child = new_case(age_group=age_group)
        before = AuditEvent.objects.count()
        made = accommodation.placement_request_raise(
            by=cora, case=child, urgency="emergency", needed_from=s.day(3)
        )
        assert isinstance(made, ChildrenServicesTask)
        assert not PlacementRequest.objects.exists()
        assert (made.owner, made.status, made.due_on) == (
            council,
            TaskStatus.OPEN,
            timezone.localdate(),  # an emergency is due today
        )
        assert told(child) == {lena.pk, gail.pk}
        assert AuditEvent.objects.count() == before + 1
        assert events("children_services_task.raised")[0].detail["told"] == {
            "local_authority": 1,
            "guardian_service": 1,
        }
        assert CaseEvent.objects.filter(case=child, kind="safeguarding.accommodation_task").exists()

    def test_an_adult_still_gets_a_placement_request(self, cora: User, new_case: Any) -> None:
        made = accommodation.placement_request_raise(
            by=cora, case=new_case(), urgency="routine", needed_from=s.day(3)
        )
        assert isinstance(made, PlacementRequest)
        assert not ChildrenServicesTask.objects.exists()

    def test_asking_again_while_the_task_is_open_is_refused_saying_why(
        self, cora: User, council: Organisation, new_case: Any
    ) -> None:
        child = new_case(age_group=AgeGroup.PRESUMED_CHILD)
        accommodation.placement_request_raise(
            by=cora, case=child, urgency="routine", needed_from=s.day(3)
        )
        with pytest.raises(ValidationError, match="already have the task"):
            accommodation.placement_request_raise(
                by=cora, case=child, urgency="routine", needed_from=s.day(3)
            )
        assert ChildrenServicesTask.objects.count() == 1

    @pytest.mark.parametrize("age_group", CHILDREN)
    def test_on_the_coordinators_page_the_coordinator_is_told_where_it_went(
        self,
        cora: User,
        council: Organisation,
        lena: User,
        gail: User,
        new_case: Any,
        age_group: str,
    ) -> None:
        """Lena (the council's safeguarding lead) and Gail (the guardian service's) use OpenNRM:
        the page says both were told (without them it says nobody was:
        `test_home_queues_review_gaps.py`)."""
        child = new_case(age_group=age_group)
        client = factories.signed_in_client(cora)
        day = s.day(2)
        response = client.post(
            "/support/requests/new/",
            {
                "reference": child.reference,
                "urgency": "urgent",
                "needed_from_day": day.day,
                "needed_from_month": day.month,
                "needed_from_year": day.year,
            },
            follow=True,
        )
        page = response.content.decode()
        assert response.redirect_chain[-1][0] == "/support/requests/"
        assert "their accommodation is arranged by Test Council children&#39;s services" in page
        assert "We have told them and the child trafficking guardian service" in page
        assert not PlacementRequest.objects.exists()
        assert ChildrenServicesTask.objects.get().due_on == day
        # Never on the coordinator's waiting list.
        assert child.reference not in client.get("/support/requests/").content.decode()

    @pytest.mark.parametrize("referral", ["page", "api"])
    def test_at_referral_the_needs_go_to_the_local_authority(
        self,
        alice: User,
        northmoor_police: Organisation,
        routing: Organisation,
        council: Organisation,
        lena: User,
        gail: User,
        referral: str,
    ) -> None:
        answers = {**r.CHILD_REFERRAL, "needs": r.NEEDS}
        if referral == "page":
            client = factories.signed_in_client(alice)
            draft = r.start(client)
            r.complete(client, draft, answers)
            confirmation = client.get(r.submit(client, draft)["Location"]).content.decode()
            assert "arranged by the local authority's children's services" in confirmation
            assert "raised with support providers" not in confirmation
        else:
            _, secret = a.token(alice, northmoor_police)
            response = a.post_referral(a.client_with(secret), answers)
            assert response.status_code == 201, response.json()
        case = Case.objects.get()
        assert case.age_group == AgeGroup.PRESUMED_CHILD
        assert not PlacementRequest.objects.exists()
        task = ChildrenServicesTask.objects.get()
        assert (task.case, task.owner, task.raised_by) == (case, council, alice)
        assert task.needs == ["A safe place to stay tonight", "An interpreter"]
        assert task.due_on == timezone.localdate()  # a bed tonight
        assert told(case) == {lena.pk, gail.pk}
        kinds = set(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
        assert "support.placement_requested" not in kinds
        assert "safeguarding.accommodation_task" in kinds
        # Inside the referral's one event.
        assert len(events("referral.submitted")) == 1
        assert not events("children_services_task.raised")

    def test_an_adults_referral_still_raises_a_placement_request(
        self, alice: User, routing: Organisation, council: Organisation
    ) -> None:
        client = factories.signed_in_client(alice)
        draft = r.start(client)
        r.complete(client, draft, r.ADULT_REFERRAL)
        r.submit(client, draft)
        assert PlacementRequest.objects.count() == 1
        assert not ChildrenServicesTask.objects.exists()

    def test_a_childs_request_made_before_is_never_shown_as_an_adults(
        self, cora: User, new_case: Any
    ) -> None:
        """A request for a child from before the pathway (matching still keeps them out of adult
        beds) is marked on the waiting list as a child's."""
        old = s.request(new_case(age_group=AgeGroup.PRESUMED_CHILD))
        page = factories.signed_in_client(cora).get("/support/requests/").content.decode()
        row = page.split(old.case.reference)[1].split("</tr>")[0]
        assert "A child: only a setting for children" in row

    def test_the_helper_refuses_an_adult(self, new_case: Any) -> None:
        with pytest.raises(ValueError, match="only a child"):
            task_for(new_case())

    def test_with_no_local_authority_known_the_task_still_goes_to_the_area(
        self, cora: User, gail: User, new_case: Any
    ) -> None:
        child = new_case(age_group=AgeGroup.CHILD)
        task = accommodation.placement_request_raise(
            by=cora, case=child, urgency="routine", needed_from=s.day(1)
        )
        assert isinstance(task, ChildrenServicesTask)
        assert (task.owner, task.area) == (None, "Testshire")
        assert "the local authority for Testshire" in services.redirect_message(child)
        assert told(child) == {gail.pk}
        assert selectors.open_tasks(Actor.of_session(gail)).get() == task


# --- The caseload -------------------------------------------------------------------------------


class TestTheCaseload:
    @pytest.mark.page("safeguarding:caseload")
    def test_what_needs_doing_today_by_reference_never_by_name(
        self, lena: User, new_case: Any
    ) -> None:
        today = timezone.localdate()
        late = task_for(new_case(age_group=AgeGroup.CHILD), due_on=today - timedelta(days=2))
        due = task_for(new_case(age_group=AgeGroup.CHILD), due_on=today)
        later = task_for(new_case(age_group=AgeGroup.CHILD), due_on=today + timedelta(days=3))
        disputed = new_case(age_group=AgeGroup.PRESUMED_CHILD)
        old = new_case(age_group=AgeGroup.CHILD, submitted_at=timezone.now() - timedelta(days=30))
        adult = new_case()
        client = factories.signed_in_client(lena)
        page = client.get("/children/").content.decode()
        # Overdue first, then by due date; tagged.
        order = [page.index(t.case.reference) for t in (late, due, later)]
        assert order == sorted(order)
        assert "Overdue" in page
        assert "Due today" in page
        assert "<strong>1</strong> task overdue" in page
        assert "<strong>1</strong> task due today" in page
        assert "<strong>1</strong> age assessment outstanding" in page
        assert f"/children/{disputed.reference}/age-assessment/" in page
        assert "<strong>4</strong> children need action" in page
        assert "<strong>5</strong> children in your area in all" in page
        assert old.reference not in page.split("Newly referred")[-1]
        assert adult.reference not in page
        assert NAME not in page
        assert not AuditEvent.objects.filter(action="person.viewed").exists()
        assert client.post("/children/").status_code == 405

    @pytest.mark.page("safeguarding:caseload")
    def test_age_assessments_outstanding_are_paged_and_counted_to_a_cap(
        self, monkeypatch: pytest.MonkeyPatch, lena: User, new_case: Any
    ) -> None:
        """ADR 0055: at a million cases one area held 17,938 age-disputed children waiting,
        all listed on one page (2.8 s); the children in the area were counted whole."""
        from opennrm.lib import paging
        from opennrm.safeguarding import views

        monkeypatch.setattr(views, "OUTSTANDING_PAGE_SIZE", 2)
        monkeypatch.setattr(paging, "COUNT_CAP", 2)
        start = timezone.now() - timedelta(days=3)
        waiting = [
            new_case(age_group=AgeGroup.PRESUMED_CHILD, submitted_at=start + timedelta(hours=n))
            for n in range(3)
        ]
        client = factories.signed_in_client(lena)
        first = client.get("/children/").content.decode()
        assert "<strong>More than 2</strong> age assessments outstanding" in first
        assert "<strong>More than 2</strong> children need action" in first
        assert "<strong>More than 2</strong> children in your area in all" in first
        assert "Showing 1 to 2." in first
        assessments = first.split("Age assessments outstanding")[-1].split("Newly referred")[0]
        assert [c.reference in assessments for c in waiting] == [True, True, False]
        second = client.get("/children/", {"page": 2}).content.decode()
        assessments = second.split("Age assessments outstanding")[-1].split("Newly referred")[0]
        assert [c.reference in assessments for c in waiting] == [False, False, True]
        assert "No age assessments outstanding." not in second
        past = client.get("/children/", {"page": 3}).content.decode()
        assert "There are no age assessments outstanding on page 3." in past

    def test_nothing_to_do_says_so(self, lena: User) -> None:
        page = factories.signed_in_client(lena).get("/children/").content.decode()
        assert "No open tasks." in page
        assert "No age assessments outstanding." in page
        assert "No child has come with an adult referred in your area." in page

    def test_a_child_who_came_with_an_adult_is_known_to_the_local_authority(
        self, lena: User, alice: User, new_case: Any
    ) -> None:
        from opennrm.safety.services import dependant_add

        adult = new_case()
        dependant_add(
            by=alice,
            case=adult,
            expected_version=None,
            relationship="child",
            sex="female",
            age_years=6,
        )
        page = factories.signed_in_client(lena).get("/children/").content.decode()
        assert "1 child under 18 came with an adult referred in your area" in page
        assert "/safety/children/" in page

    def test_the_count_of_children_needing_action(
        self, lena: User, gail: User, cora: User, elsewhere_lead: User, new_case: Any
    ) -> None:
        def count(user: User) -> int:
            return selectors.children_needing_action_count(Actor.of_session(user))

        assert count(lena) == 0
        child = new_case(age_group=AgeGroup.CHILD)
        new_case(age_group=AgeGroup.CHILD)  # nothing to do for this one
        task = task_for(child)
        task_for(child)
        assert count(lena) == 1, "a child with two tasks is one child"
        disputed = new_case(age_group=AgeGroup.PRESUMED_CHILD)
        assert (count(lena), count(gail), count(cora), count(elsewhere_lead)) == (2, 2, 0, 0)
        # Age disputed and with an open task: still one child.
        both = new_case(age_group=AgeGroup.PRESUMED_CHILD)
        task_for(both)
        assert count(lena) == 3
        for open_task in ChildrenServicesTask.objects.filter(case=both):
            services.children_services_task_done(by=lena, task=open_task, outcome="Placed.")
        services.age_assessment_record(
            by=lena,
            case=both,
            outcome="not_possible",
            assessed_on=timezone.localdate(),
            reasons="Inconclusive.",
            expected_version=both.version,
        )
        assert count(lena) == 2
        for open_task in ChildrenServicesTask.objects.filter(case=child):
            services.children_services_task_done(by=lena, task=open_task, outcome="Foster care.")
        assert task.case_id == child.pk
        assert count(lena) == 1
        services.age_assessment_record(
            by=lena,
            case=disputed,
            outcome="not_possible",
            assessed_on=timezone.localdate(),
            reasons="Inconclusive.",
            expected_version=disputed.version,
        )
        assert count(lena) == 0

    def test_the_home_page_links_to_the_caseload(self, lena: User) -> None:
        page = factories.signed_in_client(lena).get("/").content.decode()
        assert 'href="/children/"' in page
        assert "Children in your area" in page


# --- A task ---------------------------------------------------------------------------------


class TestATask:
    @pytest.mark.page("safeguarding:task")
    def test_the_local_authority_marks_it_done_with_what_was_done(
        self, lena: User, new_case: Any
    ) -> None:
        task = task_for(new_case(age_group=AgeGroup.PRESUMED_CHILD))
        client = factories.signed_in_client(lena)
        url = f"/children/tasks/{task.pk}/"
        page = client.get(url).content.decode()
        assert "A safe place to stay tonight" in page
        assert "Mark as done" in page
        missing = client.post(url, {"outcome": ""})
        assert "Enter what was done" in missing.content.decode()
        before = AuditEvent.objects.count()
        response = client.post(url, {"outcome": "Placed with Testshire foster carers."})
        assert response.status_code == 302
        task.refresh_from_db()
        assert (task.status, task.outcome, task.done_by) == (
            TaskStatus.DONE,
            "Placed with Testshire foster carers.",
            lena,
        )
        assert [e.action for e in AuditEvent.objects.filter(pk__gt=before)] == [
            "children_services_task.done"
        ]
        # The outcome is about the child: shown only with a read recorded.
        shown = client.get(url).content.decode()
        assert "Placed with Testshire foster carers." in shown
        read = AuditEvent.objects.filter(action="person.viewed", actor=lena).last()
        assert read is not None
        assert read.detail == {"fields": ["task_outcome"]}
        assert client.delete(url).status_code == 405

    @pytest.mark.page("safeguarding:task")
    def test_the_local_authority_arranging_the_place_sees_what_keeps_the_child_safe(
        self,
        alice: User,
        routing: Organisation,
        council: Organisation,
        lena: User,
        gail: User,
        elsewhere_lead: User,
    ) -> None:
        details = "Keep her away from the uncle who runs the Quayside car wash"
        client = factories.signed_in_client(alice)
        draft = r.start(client)
        r.complete(
            client,
            draft,
            {
                **r.CHILD_REFERRAL,
                "needs": {"needs": ["bed_tonight", "safety_risk"], "details": details},
            },
        )
        r.submit(client, draft)
        case = Case.objects.get()
        assert case.age_group == AgeGroup.PRESUMED_CHILD
        safety.safety_profile_save(
            by=alice,
            case=case,
            expected_version=None,
            risk_level="very_high",
            risk_reasons="The uncle has found her twice",
            exploiters="Her uncle, Quayside car wash",
            keep_away=["Quayside"],
            medical_needs="Asthma inhaler",
        )
        safety.dependant_add(
            by=alice,
            case=case,
            expected_version=None,
            relationship="child",
            sex="male",
            age_years=1,
            name="Tomas",
        )
        on_the_page = {
            "immediate_needs_details": details,
            "safety_risk_reasons": "Very high: The uncle has found her twice",
            "safety_exploiters": "Her uncle, Quayside car wash",
            "safety_keep_away": "Quayside",
            "safety_medical_needs": "Asthma inhaler",
            "safety_dependants": "Their child, 1 year, male",
            "safety_dependant_names": "Tomas",
        }
        url = f"/children/tasks/{ChildrenServicesTask.objects.get(case=case).pk}/"
        assert factories.signed_in_client(elsewhere_lead).get(url).status_code == 404
        assert not AuditEvent.objects.filter(actor=elsewhere_lead, action="person.viewed")
        # The local authority that arranges the place, and the guardian who reads it.
        for reader in (lena, gail):
            page = factories.signed_in_client(reader).get(url)
            assert page.status_code == 200
            html = page.content.decode()
            (read,) = AuditEvent.objects.filter(actor=reader, action="person.viewed")
            assert sorted(read.detail["fields"]) == sorted(on_the_page), reader
            for field in read.detail["fields"]:
                assert on_the_page[field] in html, (reader, field)

    def test_outsiders_get_404_and_the_guardian_only_reads(
        self,
        lena: User,
        gail: User,
        cora: User,
        alice: User,
        dmitri: User,
        charlie: User,
        elsewhere_lead: User,
        new_case: Any,
    ) -> None:
        task = task_for(new_case(age_group=AgeGroup.CHILD))
        url = f"/children/tasks/{task.pk}/"
        for outsider in (cora, alice, dmitri, charlie, elsewhere_lead):
            client = factories.signed_in_client(outsider)
            assert client.get(url).status_code == 404, outsider
            assert client.post(url, {"outcome": "x"}).status_code == 404, outsider
        guardian = factories.signed_in_client(gail)
        assert "Mark as done" not in guardian.get(url).content.decode()
        guardian.post(url, {"outcome": "Done."})
        with pytest.raises(ValidationError, match="Only a safeguarding lead of the local"):
            services.children_services_task_done(by=gail, task=task, outcome="Done.")
        task.refresh_from_db()
        assert task.status == TaskStatus.OPEN


# --- Age assessment ---------------------------------------------------------------------------


def assess(client: Client, case: Case, **values: Any) -> Any:
    day = values.pop("day", timezone.localdate())
    return client.post(
        f"/children/{case.reference}/age-assessment/",
        {
            "outcome": "adult",
            "assessed_on_day": day.day,
            "assessed_on_month": day.month,
            "assessed_on_year": day.year,
            "reasons": "A Merton-compliant assessment by two social workers.",
            "version": case.version,
            **values,
        },
    )


class TestAgeAssessment:
    @pytest.mark.page("safeguarding:age_assessment")
    def test_found_to_be_an_adult_moves_to_the_adult_pathway_with_the_decision_recorded(
        self,
        lena: User,
        alice: User,
        dmitri: User,
        cora: User,
        gail: User,
        council: Organisation,
        new_case: Any,
    ) -> None:
        disputed = new_case(age_group=AgeGroup.PRESUMED_CHILD)
        task = task_for(disputed)
        client = factories.signed_in_client(lena)
        form = client.get(f"/children/{disputed.reference}/age-assessment/").content.decode()
        assert "What did the age assessment find?" in form
        before = AuditEvent.objects.count()
        response = assess(client, disputed)
        assert response.status_code == 302
        assert response["Location"] == "/children/"
        disputed.refresh_from_db()
        assert disputed.age_group == AgeGroup.ADULT
        assert disputed.version == 2
        assessment = AgeAssessment.objects.get()
        assert (assessment.outcome, assessment.age_group_before, assessment.age_group_after) == (
            "adult",
            AgeGroup.PRESUMED_CHILD,
            AgeGroup.ADULT,
        )
        assert assessment.organisation == council
        # Never silently: on the timeline, in the one audit event, and told.
        change = CaseEvent.objects.get(case=disputed, kind="case.age_group_changed")
        assert change.data == {"from": AgeGroup.PRESUMED_CHILD, "to": AgeGroup.ADULT}
        assert "age assessment of" in change.description
        (event,) = AuditEvent.objects.filter(pk__gt=before)
        assert event.action == "age_assessment.recorded"
        assert event.detail["told"]["decision_makers"] == 1
        recipients = set(
            Notification.objects.filter(case=disputed, kind="case.age_group_changed").values_list(
                "recipient", flat=True
            )
        )
        assert {dmitri.pk, alice.pk, gail.pk, cora.pk} <= recipients
        # The task closes saying why, and the case leaves the local authority's view.
        task.refresh_from_db()
        assert task.status == TaskStatus.DONE
        assert "found to be an adult" in task.outcome
        assert client.get(f"/cases/{disputed.reference}/").status_code == 404
        assert disputed.reference not in client.get("/children/").content.decode()
        # The adult now goes to adult matching.
        made = accommodation.placement_request_raise(
            by=cora, case=disputed, urgency="routine", needed_from=s.day(1)
        )
        assert isinstance(made, PlacementRequest)
        # The referrer sees the assessment on the case page, the read recorded.
        page = factories.signed_in_client(alice).get(f"/cases/{disputed.reference}/")
        assert "A Merton-compliant assessment" in page.content.decode()
        read = AuditEvent.objects.filter(action="person.viewed", actor=alice).last()
        assert read is not None
        assert "age_assessment_reasons" in read.detail["fields"]
        assert client.delete(f"/children/{disputed.reference}/age-assessment/").status_code == 405

    def test_found_to_be_a_child_becomes_a_child(
        self, lena: User, dmitri: User, new_case: Any
    ) -> None:
        disputed = new_case(age_group=AgeGroup.PRESUMED_CHILD)
        response = assess(factories.signed_in_client(lena), disputed, outcome="child")
        assert response["Location"] == f"/cases/{disputed.reference}/"
        disputed.refresh_from_db()
        assert disputed.age_group == AgeGroup.CHILD
        assert Notification.objects.filter(recipient=dmitri, kind="case.age_group_changed").exists()
        page = factories.signed_in_client(lena).get(f"/cases/{disputed.reference}/")
        assert "Changed to: Child" in page.content.decode()

    def test_not_possible_to_say_changes_nothing_and_is_still_a_child(
        self, lena: User, new_case: Any
    ) -> None:
        disputed = new_case(age_group=AgeGroup.PRESUMED_CHILD)
        assess(factories.signed_in_client(lena), disputed, outcome="not_possible")
        disputed.refresh_from_db()
        assert disputed.age_group == AgeGroup.PRESUMED_CHILD
        assert disputed.version == 2
        assert not Notification.objects.filter(kind="case.age_group_changed").exists()
        assert AgeAssessment.objects.get().age_group_after == AgeGroup.PRESUMED_CHILD

    def test_bad_input_is_refused_with_what_was_typed_kept(self, lena: User, new_case: Any) -> None:
        disputed = new_case(age_group=AgeGroup.PRESUMED_CHILD)
        client = factories.signed_in_client(lena)
        future = assess(client, disputed, day=timezone.localdate() + timedelta(days=2))
        text = future.content.decode()
        assert "The date of the assessment must be today or earlier" in text
        assert "A Merton-compliant assessment by two social workers." in text
        no_reasons = assess(client, disputed, reasons="", outcome="")
        assert "Enter the reasons the assessment gave" in no_reasons.content.decode()
        assert "Select what the assessment found" in no_reasons.content.decode()
        stale = assess(client, disputed, version=disputed.version + 5)
        assert "changed while you were working on it" in stale.content.decode()
        disputed.refresh_from_db()
        assert disputed.age_group == AgeGroup.PRESUMED_CHILD
        assert not AgeAssessment.objects.exists()

    def test_outsiders_get_404_and_only_the_local_authority_records(
        self,
        gail: User,
        cora: User,
        alice: User,
        dmitri: User,
        elsewhere_lead: User,
        new_case: Any,
    ) -> None:
        disputed = new_case(age_group=AgeGroup.PRESUMED_CHILD)
        url = f"/children/{disputed.reference}/age-assessment/"
        for outsider in (gail, cora, alice, dmitri, elsewhere_lead):
            client = factories.signed_in_client(outsider)
            assert client.get(url).status_code == 404, outsider
            assert assess(client, disputed).status_code == 404, outsider
        with pytest.raises(ValidationError, match="Only a safeguarding lead"):
            services.age_assessment_record(
                by=gail,
                case=disputed,
                outcome="adult",
                assessed_on=timezone.localdate(),
                reasons="No.",
                expected_version=disputed.version,
            )
        disputed.refresh_from_db()
        assert disputed.age_group == AgeGroup.PRESUMED_CHILD


def _writes_age_group(node: ast.AST) -> bool:
    """Whether this node sets a case's age group: `x.age_group = ...`, `.update(age_group=...)`,
    `update_fields=[..."age_group"...]` or `changes={"age_group": ...}`."""
    if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        # `self.age_group` is a form's own (the referral's person form), never a case's.
        return any(
            isinstance(t, ast.Attribute)
            and t.attr == "age_group"
            and not (isinstance(t.value, ast.Name) and t.value.id == "self")
            for t in targets
        )
    if isinstance(node, ast.Call):
        name = node.func.attr if isinstance(node.func, ast.Attribute) else ""
        for keyword in node.keywords:
            if name == "update" and keyword.arg == "age_group":
                return True
            if keyword.arg in ("update_fields", "changes"):
                return "'age_group'" in ast.unparse(keyword.value) or (
                    '"age_group"' in ast.unparse(keyword.value)
                )
    return False


def test_nothing_but_an_assessment_or_an_age_dispute_changes_an_age_group() -> None:
    """The only code that changes a case's age group once the case exists is
    `cases.services.case_age_group_change`, and the only code that calls it is the age
    assessment's service, the age dispute's (which only ever moves an adult to "age
    disputed", tests/test_age_dispute.py) and the move of a child who turned 18 by the date of
    birth recorded (tests/test_coming_of_age.py)."""
    root = pathlib.Path(opennrm.__file__).parent
    writers = set()
    callers = set()
    for path in root.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            for node in ast.walk(function):
                if _writes_age_group(node):
                    writers.add(f"{path.relative_to(root)}:{function.name}")
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == "case_age_group_change"
                ):
                    callers.add(f"{path.relative_to(root)}:{function.name}")
    assert writers == {"cases/services.py:case_age_group_change"}
    assert callers == {
        "safeguarding/services.py:age_assessment_record",
        "safeguarding/services.py:age_dispute_raise",
        "safeguarding/coming_of_age.py:_turn_18",
    }
    assert "case_version_claim" in inspect.getsource(opennrm.cases.services.case_age_group_change)


def test_every_service_leaves_one_event_or_says_why_not() -> None:
    """The write services are tested above, each with its one event; the rest write none of
    their own (they run inside a service that does, or only read)."""
    public = {
        name
        for name, fn in inspect.getmembers(services, inspect.isfunction)
        if fn.__module__ == services.__name__ and not name.startswith("_")
    }
    assert public == {
        # Writes, one event each (tested above).
        "children_accommodation_redirect",  # children_services_task.raised
        "children_services_task_done",  # children_services_task.done
        "age_assessment_record",  # age_assessment.recorded
        "age_dispute_raise",  # age_dispute.raised (tests/test_age_dispute.py)
        # Inside the referral's or the redirect's event.
        "children_accommodation_task_open",
        # Inside privacy's erasure (person.erased).
        "safeguarding_records_pseudonymise",
        # Reads.
        "local_authority_of",
        "children_services_name",
        "redirect_message",
    }


def test_erasure_empties_the_outcome_and_the_reasons(lena: User, new_case: Any) -> None:
    disputed = new_case(age_group=AgeGroup.PRESUMED_CHILD)
    task = task_for(disputed)
    services.children_services_task_done(by=lena, task=task, outcome="With foster carers.")
    services.age_assessment_record(
        by=lena,
        case=disputed,
        outcome="not_possible",
        assessed_on=timezone.localdate(),
        reasons="Inconclusive.",
        expected_version=disputed.version,
    )
    assert services.safeguarding_records_pseudonymise([disputed.pk]) == {
        "children_task_outcomes": 1,
        "age_assessment_reasons": 1,
    }
    task.refresh_from_db()
    assert task.outcome == ""
    assert AgeAssessment.objects.get().reasons == ""


@override_settings(DEMO=True)
def test_the_demo_safeguarding_lead_sees_an_age_disputed_child_with_an_open_task(
    db: None,
) -> None:
    call_command("demo_data")
    call_command("demo_data")  # idempotent
    # The demo operation's children, found in Northmoor, are Northmoor's to accommodate.
    task = ChildrenServicesTask.objects.exclude(area="Northmoor").get()
    assert ChildrenServicesTask.objects.filter(area="Northmoor").count() == 16
    assert task.case.age_group == AgeGroup.PRESUMED_CHILD
    assert task.owner is not None
    assert task.owner.name == "Riverside Borough Council"
    lead = User.objects.get(email="safeguarding@demo.opennrm.test")
    page = factories.signed_in_client(lead).get("/children/").content.decode()
    assert task.case.reference in page
    assert "<strong>1</strong> age assessment outstanding" in page
    assert selectors.children_needing_action_count(Actor.of_session(lead)) == 1


def test_a_subject_access_export_holds_the_assessments_and_tasks(lena: User, new_case: Any) -> None:
    from opennrm.privacy.selectors import subject_access_data

    disputed = new_case(age_group=AgeGroup.PRESUMED_CHILD)
    services.children_services_task_done(
        by=lena, task=task_for(disputed), outcome="With foster carers."
    )
    services.age_assessment_record(
        by=lena,
        case=disputed,
        outcome="child",
        assessed_on=timezone.localdate(),
        reasons="Sixteen.",
        expected_version=disputed.version,
    )
    (exported,) = subject_access_data(disputed.person)["cases"]
    held = exported["safeguarding"]
    assert held["age_assessments"][0]["reasons"] == "Sixteen."
    assert held["age_assessments"][0]["age_group_after"] == "Child"
    assert held["childrens_services_tasks"][0]["what_was_done"] == "With foster carers."
