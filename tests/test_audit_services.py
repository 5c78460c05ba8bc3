"""Every write service of every app leaves exactly one audit event (CONTRIBUTING, rule 1).

The accounts, api, referrals, notifications and screening services are checked beside their
own tests (COVERED_ELSEWHERE); this module checks the rest: support, decisions, cases and
privacy. Every public function in every app's `services` module is either called below with
"exactly one new event" asserted, or named in NOT_WRITES with the reason it writes no event of
its own. An app added later (support split into apps, say) fails here until its services are
listed. Services are found by name in whichever app's module holds them, so moving a function
between apps needs no change here.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from datetime import date
from types import ModuleType
from typing import Any

import pytest
import time_machine
from django.utils import timezone

import opennrm
from opennrm.accommodation.models import PlacementRequestStatus
from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import CaseStatus, CloseReason
from opennrm.cases.models import Case
from opennrm.casework.models import CaseTask
from opennrm.privacy.models import ErasureRequest

from . import case_factories, factories
from . import support_factories as s
from . import support_plan_helpers as h

MONDAY = "2026-03-02 10:00:00+00:00"

# Apps whose services are checked by a test of their own, next to their other tests.
COVERED_ELSEWHERE = {
    "accounts": "tests/test_audit.py::test_every_write_service_is_covered",
    "api": "tests/test_api_tokens.py::test_every_write_service_is_covered",
    "referrals": "tests/test_referral_audit.py::test_every_public_write_service_is_exercised_above",
    "notifications": "tests/test_referral_audit.py::"
    "test_every_public_write_service_is_exercised_above",
    "screening": "tests/test_screening_pages.py::"
    "test_every_screening_service_is_covered_by_an_audit_test",
    "safeguarding": "tests/test_safeguarding.py::test_every_service_leaves_one_event_or_says_why_not",
    "contacts": "tests/test_contacts.py::test_every_contacts_service_is_covered",
    "statistics": "tests/test_statistics_dp.py::test_every_statistics_service_is_covered",
    "operations": "tests/test_operations.py::test_every_operations_service_leaves_one_event",
    "protection": "tests/test_protection.py::test_every_protection_service_leaves_one_event",
    "linkage": "tests/test_linkage_run.py::test_every_linkage_service_is_covered",
    # audit_record and audit_read are how every other service writes its one event.
    "audit": "tests/test_audit_chain.py::test_each_event_follows_the_one_before",
}


def service_modules() -> dict[str, ModuleType]:
    """Every app's `services` module, by app name."""
    found = {}
    for info in pkgutil.iter_modules(opennrm.__path__):
        if not info.ispkg:
            continue
        try:
            found[info.name] = importlib.import_module(f"opennrm.{info.name}.services")
        except ModuleNotFoundError as missing:
            if missing.name != f"opennrm.{info.name}.services":
                raise
    return found


def public_functions(module: ModuleType) -> set[str]:
    return {
        name
        for name, fn in inspect.getmembers(module, inspect.isfunction)
        if fn.__module__ == module.__name__ and not name.startswith("_")
    }


def service(name: str) -> Callable[..., Any]:
    """The service called `name`, in whichever app (outside COVERED_ELSEWHERE) holds it."""
    (found,) = [
        getattr(module, name)
        for app, module in service_modules().items()
        if app not in COVERED_ELSEWHERE and name in public_functions(module)
    ]
    return found


def at(day: str, call: Callable[[], object]) -> object:
    with time_machine.travel(day, tick=False):
        return call()


def _fresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


# Each entry calls one write service once. MONDAY is the day the world was built.


def _erasure_request(w: dict[str, Any], reference: str, *, recorded_by: User) -> ErasureRequest:
    """A request waiting for a second officer, recorded by `recorded_by` (set up directly, so
    that the service under test writes the only event)."""
    return ErasureRequest.objects.create(
        person=w["closed"].person,
        request_reference=reference,
        request_received_on=timezone.localdate(),
        requested_by=recorded_by,
        requested_at=timezone.now(),
    )


WRITES: dict[str, Callable[[dict], object]] = {
    # --- cases
    "case_close": lambda w: service("case_close")(
        by=w["dmitri"],
        case=w["closable"],
        reason=CloseReason.LEFT,
        expected_version=w["closable"].version,
    ),
    # --- decisions
    "decision_record_reasonable_grounds": lambda w: service("decision_record_reasonable_grounds")(
        by=w["dmitri"], case=w["new"], outcome="positive", reasons="Credible.", expected_version=1
    ),
    "decision_record_conclusive_grounds": lambda w: at(
        "2026-05-04 10:00:00+00:00",
        lambda: service("decision_record_conclusive_grounds")(
            by=w["dmitri"],
            case=_fresh(w["recovering"]),
            outcome="recognised_trafficking",
            reasons="Credible and consistent.",
            expected_version=_fresh(w["recovering"]).version,
        ),
    ),
    "decision_disqualify": lambda w: at(
        "2026-03-04 10:00:00+00:00",
        lambda: service("decision_disqualify")(
            by=w["dmitri"],
            case=_fresh(w["recovering"]),
            ground="public_order",
            reasons="A threat to public security.",
            expected_version=_fresh(w["recovering"]).version,
        ),
    ),
    "recovery_extend": lambda w: at(
        "2026-03-04 10:00:00+00:00",
        lambda: service("recovery_extend")(
            by=w["dmitri"],
            case=_fresh(w["recovering"]),
            days=14,
            reasons="Needs more time to recover.",
            expected_version=_fresh(w["recovering"]).version,
        ),
    ),
    "decision_approve": lambda w: service("decision_approve")(
        by=w["sally"], decision=w["awaiting_approval"], approve=False, note="Look again."
    ),
    "letter_issue": lambda w: service("letter_issue")(by=w["dmitri"], decision=w["without_letter"]),
    # As an age assessment does when it gives a case the adult dates of a decision in effect.
    "adult_dates_letter_issue": lambda w: service("adult_dates_letter_issue")(
        by=w["dmitri"],
        case=w["closable"],
        dates={"move_on_ends": w["today"]},
        cause="age_assessment",
    ),
    "reconsideration_request": lambda w: at(
        "2026-03-03 10:00:00+00:00",
        lambda: service("reconsideration_request")(
            by=w["alice"],
            case=_fresh(w["refused"]),
            grounds="New evidence.",
            expected_version=_fresh(w["refused"]).version,
        ),
    ),
    "reconsideration_take_late": lambda w: at(
        "2026-09-01 10:00:00+00:00",
        lambda: service("reconsideration_take_late")(
            by=w["dmitri"],
            case=_fresh(w["refused"]),
            asked_by="legal_representative",
            received_on=date(2026, 8, 28),
            grounds="New evidence.",
            circumstances="In hospital until the time had passed.",
            expected_version=_fresh(w["refused"]).version,
        ),
    ),
    "reconsideration_decide": lambda w: at(
        "2026-03-03 10:00:00+00:00",
        lambda: service("reconsideration_decide")(
            by=w["dmitri"],
            request=w["reconsideration"],
            accept=False,
            reasons="Nothing new.",
            expected_version=_fresh(w["reconsideration"].case).version,
        ),
    ),
    "case_assign": lambda w: service("case_assign")(
        by=w["sally"], case=w["new"], assignee=w["dmitri"], expected_version=1
    ),
    # --- casework
    "case_note_add": lambda w: service("case_note_add")(
        by=w["alice"], case=w["new"], text="Called her.", visibility="own_organisation"
    ),
    "case_task_add": lambda w: service("case_task_add")(
        by=w["alice"], case=w["new"], title="Call back", owner=w["alice"], due_on=w["today"]
    ),
    "case_task_done": lambda w: service("case_task_done")(by=w["alice"], task=w["open_task"]),
    "case_task_reassign": lambda w: service("case_task_reassign")(
        by=w["alice"], task=w["open_task"], owner=w["bob"]
    ),
    # --- privacy
    "erasure_request_record": lambda w: service("erasure_request_record")(
        by=w["dpo"],
        person=w["closed"].person,
        request_reference="DPR-1",
        request_received_on=timezone.localdate(),
    ),
    "erasure_request_approve": lambda w: service("erasure_request_approve")(
        by=w["dpo"], erasure_request=_erasure_request(w, "DPR-2", recorded_by=w["alice"])
    ),
    "erasure_request_refuse": lambda w: service("erasure_request_refuse")(
        by=w["dpo"],
        erasure_request=_erasure_request(w, "DPR-3", recorded_by=w["dpo"]),
        reason="legal_hold",
    ),
    # Nobody is due here: the run's own event. Each person it erases adds their erasure's event
    # (tests/test_retention_and_erasure.py).
    "retention_apply": lambda w: service("retention_apply")(today=timezone.localdate()),
    "subject_access_export": lambda w: service("subject_access_export")(
        by=w["dpo"], person=w["new"].person, request_reference="SAR-2"
    ),
    # --- support: sites, beds and services
    "site_create": lambda w: s.site(w["maya"], w["provider"]),
    "site_update": lambda w: service("site_update")(by=w["maya"], site=w["site"], name="Renamed"),
    "room_create": lambda w: service("room_create")(
        by=w["maya"], site=w["site"], name="Room 9", beds=2
    ),
    "bed_set_in_service": lambda w: service("bed_set_in_service")(
        by=w["maya"], bed=w["free_bed"], in_service=False, reason="Damp"
    ),
    "service_create": lambda w: service("service_create")(
        by=w["maya"], provider=w["provider"], name="Outreach advice"
    ),
    "service_update": lambda w: service("service_update")(
        by=w["maya"], service=w["service"], name="Renamed service"
    ),
    "site_address_shown": lambda w: service("site_address_shown")(by=w["maya"], site=w["site"]),
    "address_grant_request": lambda w: service("address_grant_request")(
        by=w["cora"], site=w["other_site"], reason="To arrange a journey", emergency=False
    ),
    "address_grant_decide": lambda w: service("address_grant_decide")(
        by=w["admin"], grant=w["grant_asked"], approve=True
    ),
    "address_grant_revoke": lambda w: service("address_grant_revoke")(
        by=w["admin"], grant=w["grant_asked"]
    ),
    "site_assignment_set": lambda w: service("site_assignment_set")(
        by=w["admin"],
        membership=Membership.objects.get(user=w["manager"]),
        site=w["site"],
        assigned=True,
    ),
    # --- support: requests, matching and placements
    "placement_request_raise": lambda w: service("placement_request_raise")(
        by=w["cora"], case=w["new"], urgency="routine", needed_from=s.day(1)
    ),
    "placement_request_update": lambda w: service("placement_request_update")(
        by=w["cora"],
        request=w["request"],
        expected_version=w["request"].version,
        details_reviewed=True,
        needs_wheelchair=True,
    ),
    "placement_request_close": lambda w: service("placement_request_close")(
        by=w["cora"], request=w["request"], status=PlacementRequestStatus.WITHDRAWN
    ),
    "matching_run": lambda w: service("matching_run")(by=w["cora"]),
    "placement_confirm": lambda w: service("placement_confirm")(
        by=w["cora"], placement=w["proposed"]
    ),
    "placement_reject": lambda w: service("placement_reject")(
        by=w["cora"], placement=w["proposed"]
    ),
    "placement_make": lambda w: service("placement_make")(
        by=w["cora"], request=w["request"], bed=w["free_bed"]
    ),
    "placement_respond": lambda w: service("placement_respond")(
        by=w["maya"], placement=w["offered"], accept=True
    ),
    "placement_arrive": lambda w: service("placement_arrive")(
        by=w["maya"], placement=w["accepted"], on=timezone.localdate()
    ),
    "placement_cancel": lambda w: service("placement_cancel")(by=w["cora"], placement=w["offered"]),
    "placement_end": lambda w: service("placement_end")(
        by=w["maya"], placement=w["living"], on=timezone.localdate(), reason="moved_on"
    ),
    # --- safety
    "safety_profile_save": lambda w: service("safety_profile_save")(
        by=w["alice"],
        case=w["new"],
        expected_version=None,
        risk_level="high",
        risk_reasons="The controller is looking for her",
        keep_away=["Northmoor"],
        setting_required="women_only",
    ),
    "dependant_add": lambda w: service("dependant_add")(
        by=w["alice"],
        case=w["new"],
        expected_version=None,
        relationship="child",
        sex="female",
        age_years=4,
    ),
    "dependant_remove": lambda w: service("dependant_remove")(
        by=w["alice"], dependant=w["dependant"], expected_version=1
    ),
    # --- support: plans and missing episodes
    "support_measure_update": lambda w: service("support_measure_update")(
        by=w["cora"],
        case=w["placed_case"],
        measure="translation",
        expected_version=_fresh(w["placed_case"]).version,
        status="arranged",
        provider=w["provider"],
    ),
    "service_delivery_record": lambda w: service("service_delivery_record")(
        by=w["cora"],
        case=w["placed_case"],
        measure="translation",
        delivered_on=timezone.localdate(),
        description="An interpreter for an hour",
        provider=w["provider"],
    ),
    "missing_report": lambda w: service("missing_report")(
        by=w["maya"],
        case=w["placed_case"],
        went_missing_on=timezone.localdate(),
        last_seen="At the bus station",
    ),
    "missing_return": lambda w: service("missing_return")(
        by=w["maya"], episode=w["episode"], returned_on=timezone.localdate()
    ),
}

# A service that calls another service leaves that service's event too (CONTRIBUTING, rule 1):
# a decision that takes effect issues its letter (letter_issue, tested alone above), and so
# does a reconsideration decided.
ALSO: dict[str, list[str]] = {
    "decision_record_reasonable_grounds": ["letter.issued"],
    "decision_record_conclusive_grounds": ["letter.issued"],
    "recovery_extend": ["letter.issued"],
    "reconsideration_decide": ["letter.issued"],
}

# Public functions of the services modules that write no event of their own, and why.
NOT_WRITES = {
    # Reads: what a page asks before it offers an action (the service refuses the same).
    "close_refusal",
    "decision_refusal",
    "approval_refusal",
    "extension_refusal",
    "disqualification_refusal",
    "support_running",
    "request_defaults",
    "refusal_without_places",
    # Written only inside a service that records the one event for the whole action.
    "case_transition",  # every decision, closing and reconsideration names it in its event
    "placement_request_for_referral",  # inside referral_submit (referral.submitted)
    "support_records_pseudonymise",  # inside privacy's erasure (person.erased)
    "casework_pseudonymise",  # inside privacy's erasure (person.erased)
    "safety_record_at_referral",  # inside referral_submit (referral.submitted)
    "adult_places_withdrawn",  # inside age_dispute_raise (age_dispute.raised)
    "missing_child_age_disputed",  # inside age_dispute_raise (age_dispute.raised)
    # Each app's part of an erasure or a retention run, called only by privacy's services,
    # whose event (person.erased, retention.applied) covers them.
    "accommodation_records_pseudonymise",
    "safety_records_pseudonymise",
    "person_records_pseudonymise",
    "person_erasure_record",
    "decision_records_pseudonymise",
    # How every app opens a case, writes its timeline and claims its version: building blocks
    # of the services that call them (referral.submitted, decision.*, placement.*), which
    # record the one event; the timeline is the case's own history, not the audit trail.
    "case_rows",
    "first_events",
    "case_open",
    "case_event",
    "case_event_record",
    "case_events_record",
    "case_version_claim",
    "case_age_group_change",  # inside age_assessment_record (age_assessment.recorded)
    "case_events_backdate",  # demo data only, inside a demo step
    # Reads: the dates the decisions in effect give an adult (inside age_assessment_record and
    # reconsideration_decide, whose events cover them).
    "adult_clocks",
    "support_after_reasonable_grounds",
    # Reads: who is told.
    "members_in_roles",
    "support_coordinators",
}


@pytest.fixture
def world(
    alice: User,
    bob: User,
    northmoor_police: Organisation,
    authority: Organisation,
    dmitri: User,
    sally: User,
    dpo: User,
    cora: User,
    maya: User,
    provider: Organisation,
) -> dict[str, Any]:
    def case(**fields: Any) -> Case:
        return case_factories.case(
            referred_by=alice,
            referring_organisation=northmoor_police,
            authority=authority,
            consent_to_support=True,
            **fields,
        )

    admin = factories.user(
        "refuge-admin@example.org", organisation=provider, role=Role.ORGANISATION_ADMIN
    )
    decisions = service_modules()["decisions"]
    with time_machine.travel(MONDAY, tick=False):
        recovering = case()
        decisions.decision_record_reasonable_grounds(
            by=dmitri, case=recovering, outcome="positive", reasons="Credible.", expected_version=1
        )
        awaiting = case()
        awaiting_approval = decisions.decision_record_reasonable_grounds(
            by=dmitri,
            case=awaiting,
            outcome="negative",
            negative_reason="insufficient_information",
            reasons="None.",
            expected_version=1,
        )
        refused = case()
        negative = decisions.decision_record_reasonable_grounds(
            by=dmitri,
            case=refused,
            outcome="negative",
            negative_reason="insufficient_information",
            reasons="None.",
            expected_version=1,
        )
        decisions.decision_approve(by=sally, decision=negative, approve=True)
        asked = case()
        decision = decisions.decision_record_reasonable_grounds(
            by=dmitri,
            case=asked,
            outcome="negative",
            negative_reason="insufficient_information",
            reasons="None.",
            expected_version=1,
        )
        decisions.decision_approve(by=sally, decision=decision, approve=True)
        reconsideration = decisions.reconsideration_request(
            by=alice, case=_fresh(asked), grounds="New evidence.", expected_version=3
        )
    # A decision in effect whose letter was never issued (its person erased at the time, say).
    lettered = case()
    without_letter = decisions.decision_record_reasonable_grounds(
        by=dmitri, case=lettered, outcome="positive", reasons="Credible.", expected_version=1
    )
    without_letter.letters_issued.get().delete()
    closable = case(status=CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS)
    closed = case(status=CaseStatus.CLOSED, closed_at=timezone.now())

    site = s.site(maya, provider)
    free_bed, offer_bed, accept_bed = s.beds(maya, site, 3)
    placed_case = case()
    living = h.living(cora, maya, provider, placed_case)
    offered = service("placement_make")(by=cora, request=s.request(case()), bed=offer_bed)
    accepted = service("placement_make")(by=cora, request=s.request(case()), bed=accept_bed)
    service("placement_respond")(by=maya, placement=accepted, accept=True)
    (match_bed,) = s.beds(maya, site, 1)
    waiting = s.request(case())
    service("matching_run")(by=cora)
    proposed = waiting.placements.get()
    episode = service("missing_report")(
        by=maya,
        case=h.living(cora, maya, provider, case()).request.case,
        went_missing_on=timezone.localdate(),
        last_seen="In town",
    )
    return {
        "alice": alice,
        "dmitri": dmitri,
        "sally": sally,
        "dpo": dpo,
        "cora": cora,
        "maya": maya,
        "admin": admin,
        "provider": provider,
        "new": case(),
        "recovering": recovering,
        "awaiting_approval": awaiting_approval,
        "refused": refused,
        "reconsideration": reconsideration,
        "without_letter": without_letter,
        "closable": closable,
        "closed": closed,
        "site": site,
        "other_site": s.site(maya, provider),
        "manager": factories.user(
            "manager@example.org", organisation=provider, role=Role.SAFE_HOUSE_MANAGER
        ),
        "free_bed": free_bed,
        "service": service("service_create")(by=maya, provider=provider, name="Refuge"),
        "grant_asked": service("address_grant_request")(
            by=cora, site=site, reason="A journey", emergency=False
        ),
        "request": s.request(case()),
        "proposed": proposed,
        "offered": offered,
        "accepted": accepted,
        "living": living,
        "placed_case": placed_case,
        "episode": episode,
        "match_bed": match_bed,
        "today": timezone.localdate(),
        "bob": bob,
        "open_task": CaseTask.objects.create(
            case=case(),
            organisation=northmoor_police,
            created_by=alice,
            created_at=timezone.now(),
            title="Ring the GP",
            owner=alice,
            due_on=timezone.localdate(),
        ),
        "dependant": service("dependant_add")(
            by=alice,
            case=case(),
            expected_version=None,
            relationship="partner",
            sex="male",
            age_years=30,
        ),
    }


@pytest.mark.parametrize("name", sorted(WRITES))
def test_every_write_service_leaves_one_audit_event(world: dict[str, Any], name: str) -> None:
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    WRITES[name](world)
    new = list(
        AuditEvent.objects.filter(pk__gt=last).order_by("pk").values_list("action", flat=True)
    )
    others = sorted(action for action in new if action in ALSO.get(name, []))
    assert others == sorted(ALSO.get(name, [])), new
    assert len(new) == 1 + len(others), new


def test_every_public_service_is_in_the_write_table_or_says_why_not() -> None:
    modules = service_modules()
    unchecked = set(modules) - set(COVERED_ELSEWHERE)
    public = set().union(*(public_functions(modules[app]) for app in unchecked))
    assert public - NOT_WRITES == set(WRITES)
    assert public >= NOT_WRITES


def test_the_tests_covering_the_other_apps_exist() -> None:
    from pathlib import Path

    root = Path(__file__).parent.parent
    for where in COVERED_ELSEWHERE.values():
        path, name = where.split("::")
        assert f"def {name}(" in (root / path).read_text(), where
