"""Decisions, queues and cases through the API: the same selectors, forms and services as the
decision and case pages, the same refusals, 409 for a case that changed, 404 alike for what does
not exist and what a token may not reach, 403 without the scope or the role, and never anything
that says who the person is."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from opennrm.accounts import access
from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import AgeGroup, CaseStatus, ExploitationAgeGroup
from opennrm.cases.models import Case
from opennrm.decisions import services
from opennrm.decisions.models import Decision, DecisionState, ReconsiderationRequest
from opennrm.policy.negative_reasons import catalogue

from . import api_helpers as a
from . import case_factories, factories, routes
from .decision_helpers import fresh

MONDAY = "2026-03-02 10:00:00+00:00"
DAY = 60 * 60 * 24
# The person's name: no API response may ever contain it.
NAME = "Zorica Testova"


@pytest.fixture(autouse=True)
def no_response_names_the_person() -> Iterator[None]:
    a.BODIES.clear()
    yield
    for body in a.BODIES:
        assert NAME.encode() not in body
        assert NAME.split()[0].encode() not in body


def api(user: User, organisation: Organisation, scopes: tuple[str, ...] = a.EVERY_SCOPE) -> Client:
    _, secret = a.token(user, organisation, scopes=scopes, days=365)
    return a.RecordingClient(headers={"Authorization": f"Bearer {secret}"})


def post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return a.post_json(client, url, body)


@pytest.fixture
def other_authority(db: None) -> Organisation:
    return factories.organisation("Other Authority", OrganisationKind.COMPETENT_AUTHORITY)


@pytest.fixture
def odette(other_authority: Organisation) -> User:
    """Decision maker at another competent authority: an outsider to our cases."""
    return factories.user(
        "odette@example.org",
        organisation=other_authority,
        role=Role.DECISION_MAKER,
        full_name="Odette Other",
    )


def new_case(
    alice: User, northmoor_police: Organisation, authority: Organisation, **fields: Any
) -> Case:
    return case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        given_names=NAME,
        **fields,
    )


def decisions_url(case: Case) -> str:
    return f"/api/v1/cases/{case.reference}/decisions"


def decide(
    client: Client,
    case: Case,
    outcome: str,
    stage: str = "reasonable_grounds",
    negative_reason: str | None = None,
) -> Any:
    body = {
        "stage": stage,
        "outcome": outcome,
        # The reasons name the person, as real ones might: the API never returns them.
        "reasons": f"{NAME} gave a credible and detailed account.",
        "expected_version": fresh(case).version,
    }
    if negative_reason is not None:
        body["negative_reason"] = negative_reason
    return post(client, decisions_url(case), body)


def negative_in_effect(case: Case, dmitri: User, sally: User) -> Decision:
    decision = services.decision_record_reasonable_grounds(
        by=dmitri,
        case=case,
        outcome="negative",
        negative_reason="insufficient_information",
        reasons="x",
        expected_version=case.version,
    )
    return services.decision_approve(by=sally, decision=decision, approve=True)


class TestDeciding:
    @time_machine.travel(MONDAY, tick=False)
    def test_a_positive_reasonable_grounds_decision_moves_the_case_and_stores_its_clocks(
        self,
        case: Case,
        dmitri: User,
        alice: User,
        northmoor_police: Organisation,
        authority: Organisation,
    ) -> None:
        response = decide(api(dmitri, authority), case, "positive")
        assert response.status_code == 201, response.content
        body = response.json()
        case = fresh(case)
        assert case.status == CaseStatus.RECOVERY_PERIOD
        assert case.recovery_period_ends == date(2026, 3, 31)  # 2 March is day 1 of 30
        decision = case.decisions.get()
        assert body == {
            "id": decision.pk,
            "kind": "reasonable_grounds",
            "kind_label": "Reasonable grounds decision",
            "outcome": "positive",
            "outcome_label": decision.outcome_label,
            "outcome_kind": "positive",
            "negative_reason": None,
            "negative_reason_label": None,
            "state": "in_effect",
            "state_label": "In effect",
            "decided_at": body["decided_at"],
            "approved_at": None,
            "policy_profile_key": decision.policy_profile_key,
            "policy_profile_version": "ew-2023-01-30",
            "indicators_relied_on": [],
            "evidence_relied_on": [],
            "extension_days": None,
            "replaces": None,
            "case": {
                "reference": case.reference,
                "status": "recovery",
                "status_label": case.get_status_display(),
                "version": case.version,
                "assigned_to": None,
            },
        }
        # Recorded as the token's member, by the same service as the page.
        event = AuditEvent.objects.get(action="decision.reasonable_grounds")
        assert event.actor == dmitri
        # The referrer follows it: status, stored clocks with days left, the decision.
        seen = api(alice, northmoor_police).get(f"/api/v1/cases/{case.reference}").json()
        assert seen["status"] == "recovery"
        assert seen["version"] == case.version
        assert {
            c["name"]: (c["date"], c["current"], c["until_decision"], c["days_left"])
            for c in seen["clocks"]
        } == {
            "recovery_period_ends": ("2026-03-31", True, False, 29),
            "conclusive_grounds_from": ("2026-04-01", True, False, 30),
        }
        [shown] = seen["decisions"]
        assert (shown["outcome"], shown["state"], shown["policy_profile_version"]) == (
            "positive",
            "in_effect",
            "ew-2023-01-30",
        )
        assert "reasons" not in shown

    @time_machine.travel(MONDAY, tick=False)
    def test_the_timeline_lists_events_and_changes_of_status_in_order(
        self,
        case: Case,
        dmitri: User,
        alice: User,
        northmoor_police: Organisation,
        authority: Organisation,
    ) -> None:
        decider = api(dmitri, authority)
        post(
            decider,
            f"/api/v1/cases/{case.reference}/assignment",
            {"assignee_email": dmitri.email, "expected_version": case.version},
        )
        decide(decider, case, "positive")
        response = api(alice, northmoor_police).get(f"/api/v1/cases/{case.reference}/timeline")
        assert response.status_code == 200
        body = response.json()
        assert (body["reference"], body["status"]) == (case.reference, "recovery")
        timeline = body["timeline"]
        assert [e["at"] for e in timeline] == sorted(e["at"] for e in timeline)
        assert [
            (e["kind"], e["from_status"], e["to_status"])
            for e in timeline
            if e["kind"] in ("case.assigned", "case.status_changed")
        ] == [
            ("case.assigned", None, None),
            ("case.status_changed", "awaiting_rg", "recovery"),
        ]
        assert len(timeline) == fresh(case).events.count()

    @time_machine.travel(MONDAY, tick=False)
    def test_a_negative_decision_waits_until_a_second_decision_maker_approves(
        self, case: Case, dmitri: User, sally: User, authority: Organisation
    ) -> None:
        dmitris, sallys = api(dmitri, authority), api(sally, authority)
        made = decide(dmitris, case, "negative", negative_reason="no_purpose").json()
        assert made["state"] == "awaiting_approval"
        assert made["case"]["status"] == "awaiting_rg"
        assert (made["negative_reason"], made["negative_reason_label"]) == (
            "no_purpose",
            catalogue().label("no_purpose"),
        )
        # It is in the approvals queue, for the second decision maker to find, with its reason.
        [row] = sallys.get("/api/v1/queues/approvals").json()["items"]
        assert row["reference"] == case.reference
        assert row["decision"]["id"] == made["id"]
        assert row["decision"]["negative_reason_label"] == catalogue().label("no_purpose")
        url = f"/api/v1/decisions/{made['id']}/approval"
        [error] = a.errors(post(dmitris, url, {"approve": True}))
        assert "you made this decision" in error["message"]
        [error] = a.errors(post(sallys, url, {"approve": False, "note": " "}))
        assert error["field"] == "note"
        approved = post(sallys, url, {"approve": True, "note": "Agreed."})
        assert approved.status_code == 200, approved.content
        assert approved.json()["state"] == "in_effect"
        assert approved.json()["case"]["status"] == "negative_rg"
        assert fresh(case).reconsideration_until == date(2026, 4, 1)
        assert sallys.get("/api/v1/queues/approvals").json() == {"items": [], "count": 0}
        # Approving twice is refused, saying why.
        [error] = a.errors(post(sallys, url, {"approve": True}))
        assert "not waiting for approval" in error["message"]

    @time_machine.travel(MONDAY, tick=False)
    def test_a_negative_decision_without_its_main_reason_is_refused_on_that_field(
        self, case: Case, dmitri: User, authority: Organisation
    ) -> None:
        client = api(dmitri, authority)
        for reason in (None, "", "made_up"):
            response = decide(client, case, "negative", negative_reason=reason)
            assert response.status_code == 422
            [error] = a.errors(response)
            assert (error["field"], error["message"]) == (
                "negative_reason",
                "Select the main reason for the negative decision",
            )
        assert not fresh(case).decisions.exists()

    @time_machine.travel(MONDAY, tick=False)
    def test_no_means_is_refused_for_a_person_whose_age_is_disputed(
        self, alice: User, northmoor_police: Organisation, dmitri: User, authority: Organisation
    ) -> None:
        disputed = new_case(alice, northmoor_police, authority, age_group=AgeGroup.PRESUMED_CHILD)
        client = api(dmitri, authority)
        response = decide(client, disputed, "negative", negative_reason="no_means")
        [error] = a.errors(response)
        assert (error["field"], error["message"]) == (
            "negative_reason",
            "Means are not needed for a child: choose another reason",
        )
        made = decide(client, disputed, "negative", negative_reason="no_action")
        assert made.status_code == 201, made.content
        assert fresh(disputed).decisions.get().negative_reason == "no_action"

    @time_machine.travel(MONDAY, tick=False)
    def test_no_means_is_refused_for_an_adult_exploited_as_a_child(
        self, alice: User, northmoor_police: Organisation, dmitri: User, authority: Organisation
    ) -> None:
        adult = new_case(
            alice, northmoor_police, authority, age_group_at_exploitation=ExploitationAgeGroup.CHILD
        )
        response = decide(api(dmitri, authority), adult, "negative", negative_reason="no_means")
        [error] = a.errors(response)
        assert (error["field"], error["message"]) == (
            "negative_reason",
            "Means are not needed for a person exploited as a child: choose another reason",
        )
        assert not fresh(adult).decisions.exists()

    @time_machine.travel(MONDAY, tick=False)
    def test_a_reason_sent_with_a_positive_decision_is_not_recorded(
        self, case: Case, dmitri: User, authority: Organisation
    ) -> None:
        made = decide(api(dmitri, authority), case, "positive", negative_reason="no_action")
        assert made.status_code == 201, made.content
        assert made.json()["negative_reason"] is None
        assert fresh(case).decisions.get().negative_reason == ""

    def test_a_conclusive_decision_before_the_earliest_date_is_refused_giving_the_date(
        self, case: Case, dmitri: User, authority: Organisation
    ) -> None:
        with time_machine.travel(MONDAY, tick=False) as traveller:
            client = api(dmitri, authority)
            decide(client, case, "positive")
            traveller.shift(29 * DAY)  # 31 March; the earliest date is 1 April
            [error] = a.errors(decide(client, case, "recognised_trafficking", "conclusive_grounds"))
            assert error["field"] is None
            assert "cannot be made before 1 April 2026" in error["message"]
            assert fresh(case).decisions.count() == 1
            traveller.shift(DAY)
            response = decide(client, case, "recognised_trafficking", "conclusive_grounds")
        assert response.status_code == 201, response.content
        assert response.json()["case"]["status"] == "positive_cg"
        assert fresh(case).move_on_ends == date(2026, 5, 16)

    def test_reconsideration_asked_for_on_day_30_is_taken_and_on_day_31_refused(
        self,
        alice: User,
        dmitri: User,
        sally: User,
        northmoor_police: Organisation,
        authority: Organisation,
    ) -> None:
        on_time, late = (new_case(alice, northmoor_police, authority) for _ in range(2))
        with time_machine.travel(MONDAY, tick=False) as traveller:
            referrer, decider = api(alice, northmoor_police), api(dmitri, authority)
            for case in (on_time, late):
                negative_in_effect(case, dmitri, sally)
            traveller.shift(30 * DAY)  # 1 April: day 30
            asked = post(
                referrer,
                f"/api/v1/cases/{on_time.reference}/reconsideration",
                {
                    "grounds": f"{NAME} has a new medical report.",
                    "expected_version": fresh(on_time).version,
                },
            )
            assert asked.status_code == 201, asked.content
            assert asked.json()["state"] == "requested"
            assert asked.json()["case"]["status"] == "reconsideration"
            traveller.shift(DAY)  # day 31
            [error] = a.errors(
                post(
                    referrer,
                    f"/api/v1/cases/{late.reference}/reconsideration",
                    {"grounds": "Too late.", "expected_version": fresh(late).version},
                )
            )
            assert "could be asked for until 1 April 2026" in error["message"]
            assert fresh(late).status == CaseStatus.NEGATIVE_REASONABLE_GROUNDS
            # The authority finds it in its queue and accepts it: a new decision follows.
            [row] = decider.get("/api/v1/queues/reconsiderations").json()["items"]
            assert (row["reference"], row["reconsideration"]) == (
                on_time.reference,
                asked.json()["id"],
            )
            decided = post(
                decider,
                f"/api/v1/reconsiderations/{row['reconsideration']}/decision",
                {"accept": True, "reasons": "New evidence.", "expected_version": row["version"]},
            )
        assert decided.status_code == 200, decided.content
        assert decided.json()["state"] == "accepted"
        assert decided.json()["case"]["status"] == "awaiting_rg"
        [shown] = (
            api(alice, northmoor_police)
            .get(f"/api/v1/cases/{on_time.reference}")
            .json()["reconsiderations"]
        )
        assert shown["state"] == "accepted"
        assert "grounds" not in shown

    def test_asking_for_reconsideration_of_a_case_without_a_negative_decision_says_why(
        self, case: Case, alice: User, northmoor_police: Organisation
    ) -> None:
        [error] = a.errors(
            post(
                api(alice, northmoor_police),
                f"/api/v1/cases/{case.reference}/reconsideration",
                {"grounds": "Please.", "expected_version": case.version},
            )
        )
        assert "Only a negative decision" in error["message"]
        assert fresh(case).status == CaseStatus.AWAITING_REASONABLE_GROUNDS


class TestWhatIsRefused:
    def test_wrong_answers_are_named_by_field(
        self, case: Case, dmitri: User, authority: Organisation
    ) -> None:
        client = api(dmitri, authority)
        body = {
            "stage": "reasonable_grounds",
            "outcome": "positive",
            "reasons": "Credible.",
            "expected_version": case.version,
        }

        def fields(**change: Any) -> list[str | None]:
            return [e["field"] for e in a.errors(post(client, decisions_url(case), body | change))]

        assert fields(outcome="maybe") == ["outcome"]
        assert fields(reasons="  ") == ["reasons"]
        assert fields(indicators=["NOT-OBSERVED"]) == ["indicators"]
        assert fields(evidence=[12345]) == ["evidence"]
        assert fields(stage="final") == ["stage"]
        assert fields(expected_version="soon") == ["expected_version"]
        assert fields(colour="blue") == ["colour"]
        [missing] = a.errors(
            post(client, decisions_url(case), {k: v for k, v in body.items() if k != "reasons"})
        )
        assert missing == {"step": None, "field": "reasons", "message": "Give 'reasons'"}
        assert not Decision.objects.exists()

    def test_a_case_changed_since_it_was_read_is_409_and_nothing_is_recorded(
        self, case: Case, dmitri: User, sally: User, authority: Organisation
    ) -> None:
        seen = case.version
        assigned = post(
            api(sally, authority),
            f"/api/v1/cases/{case.reference}/assignment",
            {"assignee_email": "Dmitri@Example.org", "expected_version": seen},
        )
        assert assigned.status_code == 200, assigned.content
        assert assigned.json()["assigned_to"] == "Dmitri Dane"
        client = api(dmitri, authority)
        stale = {
            "stage": "reasonable_grounds",
            "outcome": "positive",
            "reasons": "Credible.",
            "expected_version": seen,
        }
        [error] = a.errors(post(client, decisions_url(case), stale), status=409)
        assert error["message"].startswith("This case changed")
        assert not Decision.objects.exists()
        [error] = a.errors(
            post(
                client,
                f"/api/v1/cases/{case.reference}/assignment",
                {"assignee_email": None, "expected_version": seen},
            ),
            status=409,
        )
        assert fresh(case).assigned_to == dmitri

    def test_a_stale_reconsideration_decision_is_409(
        self, case: Case, dmitri: User, sally: User, alice: User, authority: Organisation
    ) -> None:
        negative_in_effect(case, dmitri, sally)
        seen = fresh(case).version
        request = services.reconsideration_request(
            by=alice, case=fresh(case), grounds="New evidence.", expected_version=seen
        )
        [error] = a.errors(
            post(
                api(dmitri, authority),
                f"/api/v1/reconsiderations/{request.pk}/decision",
                {"accept": True, "reasons": "Yes.", "expected_version": seen},
            ),
            status=409,
        )
        assert error["message"].startswith("This case changed")
        request.refresh_from_db()
        assert request.state == "requested"

    def test_assigning_to_someone_who_is_not_a_decision_maker_here_is_refused(
        self, case: Case, dmitri: User, odette: User, authority: Organisation
    ) -> None:
        client = api(dmitri, authority)
        url = f"/api/v1/cases/{case.reference}/assignment"
        for email in ("odette@example.org", "alice@example.org", "nobody@example.org"):
            [error] = a.errors(post(client, url, {"assignee_email": email, "expected_version": 1}))
            assert error["field"] == "assignee_email"
            assert "No decision maker of Test Competent Authority" in error["message"]
        assert fresh(case).assigned_to is None
        [error] = a.errors(post(client, url, {"expected_version": 1}))
        assert error["field"] == "assignee_email"
        unassigned = post(client, url, {"assignee_email": None, "expected_version": 1})
        assert unassigned.status_code == 200
        assert unassigned.json()["assigned_to"] is None


def every_route(case: Case, decision: Decision, request: ReconsiderationRequest) -> list[tuple]:
    """Every new operation, as (method, url, body) against our authority's records."""
    ref = case.reference
    return [
        ("get", f"/api/v1/cases/{ref}", None),
        ("get", f"/api/v1/cases/{ref}/timeline", None),
        ("post", f"/api/v1/cases/{ref}/reconsideration", {"grounds": "x", "expected_version": 1}),
        ("get", "/api/v1/queues/reasonable-grounds", None),
        (
            "post",
            f"/api/v1/cases/{ref}/decisions",
            {
                "stage": "reasonable_grounds",
                "outcome": "positive",
                "reasons": "x",
                "expected_version": 1,
            },
        ),
        ("post", f"/api/v1/decisions/{decision.pk}/approval", {"approve": True}),
        (
            "post",
            f"/api/v1/reconsiderations/{request.pk}/decision",
            {"accept": True, "reasons": "x", "expected_version": 1},
        ),
        (
            "post",
            f"/api/v1/cases/{ref}/assignment",
            {"assignee_email": None, "expected_version": 1},
        ),
    ]


def call(client: Client, method: str, url: str, body: Any) -> Any:
    return client.get(url) if method == "get" else post(client, url, body)


class TestWhoReachesWhat:
    @pytest.fixture
    def records(
        self, alice: User, dmitri: User, sally: User, northmoor_police: Organisation, authority
    ) -> tuple[Case, Decision, ReconsiderationRequest]:
        """Our authority's case with a reconsideration pending, and another case with a
        decision waiting for approval."""
        reconsidered = new_case(alice, northmoor_police, authority)
        negative_in_effect(reconsidered, dmitri, sally)
        request = services.reconsideration_request(
            by=alice,
            case=fresh(reconsidered),
            grounds="New evidence.",
            expected_version=fresh(reconsidered).version,
        )
        waiting = new_case(alice, northmoor_police, authority)
        decision = services.decision_record_reasonable_grounds(
            by=dmitri,
            case=waiting,
            outcome="negative",
            negative_reason="insufficient_information",
            reasons="x",
            expected_version=1,
        )
        return waiting, decision, request

    def test_another_authoritys_decision_maker_gets_404_on_every_route(
        self, records: tuple, odette: User, other_authority: Organisation
    ) -> None:
        client = api(odette, other_authority)
        for method, url, body in every_route(*records):
            response = call(client, method, url, body)
            if url.startswith("/api/v1/queues/"):
                assert response.json() == {"items": [], "count": 0}
            elif url.endswith("/reconsideration"):
                assert response.status_code == 403, url  # a decision maker does not refer
            else:
                assert response.status_code == 404, url
                assert response.json() == a.NOT_FOUND
        # The same answer as for records that do not exist.
        assert client.get("/api/v1/cases/NRM-NOPE-0001").json() == a.NOT_FOUND
        assert post(client, "/api/v1/decisions/999999/approval", {"approve": True}).json() == (
            a.NOT_FOUND
        )
        assert Decision.objects.filter(state=DecisionState.IN_EFFECT).count() == 1

    def test_another_organisations_first_responder_gets_404_where_a_referrer_may_go(
        self, records: tuple, charlie: User, southvale_police: Organisation
    ) -> None:
        client = api(charlie, southvale_police)
        for method, url, body in every_route(*records):
            response = call(client, method, url, body)
            if url.startswith("/api/v1/cases/") and not url.endswith(("/decisions", "/assignment")):
                assert response.json() == a.NOT_FOUND, url
            else:
                assert response.status_code == 403, url  # a first responder does not decide
        assert ReconsiderationRequest.objects.count() == 1

    def test_a_member_gets_only_the_roles_they_hold_in_the_tokens_organisation(
        self,
        records: tuple,
        dmitri: User,
        other_authority: Organisation,
        southvale_police: Organisation,
    ) -> None:
        """Dmitri also decides for the other authority, and refers for Southvale Police. Tokens
        of those organisations reach nothing of his own authority's."""
        Membership.objects.create(
            user=dmitri, organisation=other_authority, role=Role.DECISION_MAKER
        )
        Membership.objects.create(
            user=dmitri, organisation=southvale_police, role=Role.FIRST_RESPONDER
        )
        elsewhere = api(dmitri, other_authority)
        as_referrer = api(dmitri, southvale_police)
        for method, url, body in every_route(*records):
            for client in (elsewhere, as_referrer):
                response = call(client, method, url, body)
                if url.startswith("/api/v1/queues/"):
                    assert response.status_code in (200, 403)
                    assert records[0].reference not in response.content.decode()
                else:
                    assert response.status_code in (403, 404), url
        assert Decision.objects.filter(state=DecisionState.IN_EFFECT).count() == 1

    def test_the_referrer_cannot_decide_and_the_safeguarding_lead_sees_only_childrens_cases(
        self,
        records: tuple,
        alice: User,
        lena: User,
        northmoor_police: Organisation,
        council: Organisation,
    ) -> None:
        referrer = api(alice, northmoor_police)
        for method, url, body in every_route(*records):
            response = call(client=referrer, method=method, url=url, body=body)
            if url.startswith("/api/v1/cases/") and not url.endswith(("/decisions", "/assignment")):
                assert response.status_code in (200, 409, 422), url
            else:
                assert "does not hold a role" in a.errors(response, 403)[0]["message"]
        child = new_case(
            alice, northmoor_police, records[0].competent_authority, age_group=AgeGroup.CHILD
        )
        safeguarding = api(lena, council)
        assert safeguarding.get(f"/api/v1/cases/{child.reference}").status_code == 200
        assert safeguarding.get(f"/api/v1/cases/{records[0].reference}").json() == a.NOT_FOUND

    @pytest.mark.parametrize(
        ("scopes", "needs"),
        [
            ((a.READ, a.WRITE), None),
            ((a.CASES_READ,), "decisions"),
            ((a.DECISIONS_READ, a.DECISIONS_WRITE), "cases:read"),
        ],
    )
    def test_a_token_without_the_scope_gets_403(
        self,
        records: tuple,
        dmitri: User,
        alice: User,
        authority: Organisation,
        northmoor_police: Organisation,
        scopes: tuple[str, ...],
        needs: str | None,
    ) -> None:
        decider, referrer = api(dmitri, authority, scopes), api(alice, northmoor_police, scopes)
        for method, url, body in every_route(*records):
            client = referrer if url.endswith("/reconsideration") else decider
            response = call(client, method, url, body)
            reads_case = method == "get" and url.startswith("/api/v1/cases/")
            scope = "cases:read" if reads_case else "decisions:read" if method == "get" else None
            scope = scope or "decisions:write"
            if needs is None or needs in scope:
                message = a.errors(response, 403)[0]["message"]
                assert f"'{scope}' scope" in message, url
            else:
                assert response.status_code != 403, url
        assert Decision.objects.filter(state=DecisionState.IN_EFFECT).count() == 1


class TestQueues:
    @pytest.fixture
    def queue(
        self,
        alice: User,
        dmitri: User,
        northmoor_police: Organisation,
        authority: Organisation,
        other_authority: Organisation,
    ) -> dict[str, Case]:
        today = timezone.localdate()

        def due(days: int, **fields: Any) -> Case:
            return new_case(
                alice,
                northmoor_police,
                authority,
                reasonable_grounds_due=today + timedelta(days=days),
                **fields,
            )

        made = {
            "far": due(10),
            "overdue": due(-3, assigned_to=dmitri),
            "soon": due(2, age_group=AgeGroup.PRESUMED_CHILD),
            "today": due(0, age_group=AgeGroup.CHILD, assigned_to=dmitri),
        }
        new_case(alice, northmoor_police, other_authority, reasonable_grounds_due=today)
        new_case(
            alice,
            northmoor_police,
            authority,
            status=CaseStatus.RECOVERY_PERIOD,
            conclusive_grounds_from=today - timedelta(days=1),
        )
        return made

    def references(self, client: Client, query: str = "") -> list[str]:
        response = client.get(f"/api/v1/queues/reasonable-grounds{query}")
        assert response.status_code == 200, response.content
        body = response.json()
        return [row["reference"] for row in body["items"]]

    def test_oldest_deadline_first_with_each_deadline_tagged(
        self, queue: dict[str, Case], dmitri: User, authority: Organisation
    ) -> None:
        body = api(dmitri, authority).get("/api/v1/queues/reasonable-grounds").json()
        order = ["overdue", "today", "soon", "far"]
        assert body["count"] == 4
        assert [row["reference"] for row in body["items"]] == [queue[k].reference for k in order]
        assert [row["deadline"] for row in body["items"]] == [
            "overdue",
            "due_soon",
            "due_soon",
            "none",
        ]
        first = body["items"][0]
        overdue = queue["overdue"]
        assert first == {
            "reference": overdue.reference,
            "status": "awaiting_rg",
            "status_label": "Awaiting reasonable grounds decision",
            "version": overdue.version,
            "age_group": "adult",
            "submitted_at": first["submitted_at"],
            "due_date": overdue.reasonable_grounds_due.isoformat(),
            "deadline": "overdue",
            "assigned_to": "Dmitri Dane",
            "referring_organisation": "Northmoor Police",
            "reconsideration": None,
            "decision": None,
        }

    def test_filters_and_paging(
        self, queue: dict[str, Case], dmitri: User, authority: Organisation
    ) -> None:
        client = api(dmitri, authority)

        def refs(*keys: str) -> list[str]:
            return [queue[k].reference for k in keys]

        assert self.references(client, "?assigned=me") == refs("overdue", "today")
        assert self.references(client, "?assigned=unassigned") == refs("soon", "far")
        assert self.references(client, "?assigned=all") == refs("overdue", "today", "soon", "far")
        assert self.references(client, "?age_group=child") == refs("today", "soon")
        assert self.references(client, "?age_group=adult") == refs("overdue", "far")
        assert self.references(client, "?overdue=true") == refs("overdue")
        assert self.references(client, "?overdue=true&assigned=unassigned") == []
        assert self.references(client, "?limit=2") == refs("overdue", "today")
        paged = client.get("/api/v1/queues/reasonable-grounds?limit=2&offset=2").json()
        assert [r["reference"] for r in paged["items"]] == refs("soon", "far")
        assert paged["count"] == 4
        [error] = a.errors(client.get("/api/v1/queues/reasonable-grounds?assigned=bob"))
        assert error["field"] == "assigned"
        [error] = a.errors(client.get("/api/v1/queues/reasonable-grounds?limit=0"))
        assert error["field"] == "limit"
        # Found by the fuzzer: an offset past the integers the database compares was a 500.
        for queue_name in ("reasonable-grounds", "approvals"):
            [error] = a.errors(client.get(f"/api/v1/queues/{queue_name}?offset={10**23}"))
            assert error["field"] == "offset"
        assert client.get("/api/v1/queues/everything").json() == a.NOT_FOUND

    def test_the_conclusive_grounds_queue_shows_when_each_case_may_be_decided(
        self, queue: dict[str, Case], dmitri: User, authority: Organisation
    ) -> None:
        body = api(dmitri, authority).get("/api/v1/queues/conclusive-grounds").json()
        [row] = body["items"]
        assert row["status"] == "recovery"
        assert row["due_date"] == (timezone.localdate() - timedelta(days=1)).isoformat()
        # The earliest lawful date, not a deadline (ADR 30): may be decided now, never overdue.
        assert row["deadline"] == "can_decide"


# Operations that answer an unknown reference exactly as a known one, so that asking reveals
# nothing (protection from removal, ADR 40): they never answer 404.
SAME_ANSWER_FOR_UNKNOWN = {
    ("GET", "api:protection_check"),
    ("POST", "api:protection_planned_removals"),
}


def test_every_new_operation_is_documented_with_its_errors() -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    for path, methods in schema["paths"].items():
        if path.startswith("/api/v1/referrals"):
            continue
        for method, operation in methods.items():
            if (method.upper(), routes.api_route_of(path)) in access.PUBLIC_API_OPERATIONS:
                # The published statistics: no token, so no 401 or 403 to document.
                assert "security" not in operation, path
                assert "404" in operation["responses"] or "{" not in path, (method, path)
                continue
            assert operation["security"] == [{"TokenAuth": []}], path
            if (method.upper(), routes.api_route_of(path)) in SAME_ANSWER_FOR_UNKNOWN:
                assert "404" not in operation["responses"], (method, path)
                assert {"401", "403"} <= set(operation["responses"]), (method, path)
                continue
            assert {"401", "403", "404"} <= set(operation["responses"]), (method, path)
            if method == "post":
                assert "422" in operation["responses"], path


def test_a_child_case_shows_no_adult_move_on_clock(
    alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """An adult's move-on end kept on a case whose age is now disputed does not run for them
    (their support is the local authority's, ADR 0025): the API leaves it out, as the case
    page does, and keeps the other clocks."""
    case = new_case(
        alice, northmoor_police, authority, status=CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS
    )
    Case.objects.filter(pk=case.pk).update(
        move_on_ends=date(2027, 2, 1), age_group=AgeGroup.PRESUMED_CHILD
    )
    seen = api(alice, northmoor_police).get(f"/api/v1/cases/{case.reference}").json()
    assert "move_on_ends" not in {c["name"] for c in seen["clocks"]}

    Case.objects.filter(pk=case.pk).update(age_group=AgeGroup.ADULT)
    seen = api(alice, northmoor_police).get(f"/api/v1/cases/{case.reference}").json()
    assert "move_on_ends" in {c["name"] for c in seen["clocks"]}
