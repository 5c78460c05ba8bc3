"""Decisions that stay right when the person or the decider changes: a child's letter, a
letter where the jurisdiction has no move-on period, a reason checked again at approval, and a
reminder sent to someone who may still decide."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import Jurisdiction, OrganisationKind, Role
from opennrm.cases.choices import AgeGroup, CaseStatus
from opennrm.cases.models import Case
from opennrm.decisions import reminders, services
from opennrm.decisions.models import DecisionState, Letter
from opennrm.notifications.models import Notification
from opennrm.safeguarding import services as safeguarding
from tests import case_factories, factories

LONG_AGO = timezone.now() - timedelta(days=60)


def _recovery_case(alice: User, org: Organisation, authority: Organisation, **kw: object) -> Case:
    case = case_factories.case(
        referred_by=alice,
        referring_organisation=org,
        authority=authority,
        status=CaseStatus.RECOVERY_PERIOD,
        submitted_at=LONG_AGO,
        given_names="Zorica",
        **kw,
    )
    case.person.languages = ["en"]
    case.person.save(update_fields=["languages"])
    return case


def test_a_childs_negative_conclusive_letter_does_not_tell_them_their_support_ends_on_a_dash(
    alice: User, northmoor_police: Organisation, authority: Organisation, dmitri: User, sally: User
) -> None:
    """A child gets no adult move-on period (ADR 0025), so a negative conclusive letter must not
    say "Your support will end on -": children's services keep looking after them."""
    case = _recovery_case(alice, northmoor_police, authority, age_group=AgeGroup.CHILD)
    drafted = services.decision_record_conclusive_grounds(
        by=dmitri,
        case=case,
        outcome="insufficient_evidence",
        reasons="Not enough evidence.",
        negative_reason="insufficient_information",
        expected_version=case.version,
    )
    services.decision_approve(by=sally, decision=drafted, approve=True)
    case.refresh_from_db()
    assert case.move_on_ends is None  # the clocks treat the child as a child
    letter = Letter.objects.get(decision=drafted)
    assert letter.text is not None
    words = letter.text["next"]
    assert "Your support will end on" not in words, words
    assert "children's services keep looking after you" in words
    assert letter.dates_stated == {"reconsideration_until": case.reconsideration_until.isoformat()}


def test_a_positive_conclusive_letter_in_northern_ireland_states_a_real_date(
    authority: Organisation, dmitri: User
) -> None:
    """Northern Ireland's profile has no move-on period, so `move_on_ends` is None: the letter
    says support goes on while a next step is planned, never "until at least -"."""
    ni_police = factories.organisation(
        "Belfast Police", OrganisationKind.STATUTORY_FIRST_RESPONDER, Jurisdiction.NORTHERN_IRELAND
    )
    ni_alice = factories.user(organisation=ni_police, role=Role.FIRST_RESPONDER)
    case = _recovery_case(ni_alice, ni_police, authority)
    decision = services.decision_record_conclusive_grounds(
        by=dmitri,
        case=case,
        outcome="recognised_trafficking",
        reasons="Credible and consistent.",
        expected_version=case.version,
    )
    letter = Letter.objects.get(decision=decision)
    assert letter.text is not None
    words = letter.text["next"]
    assert "until at least -" not in words, words
    assert (
        words
        == "You can keep getting support while you and your support worker plan what comes next."
    )


def test_approving_a_no_means_refusal_after_the_persons_age_is_disputed_is_refused(
    case: Case, dmitri: User, sally: User, alice: User
) -> None:
    """'No means' is never a reason for a child or a presumed child (ADR 38/42): the service
    refuses it when drafting. But a negative decision drafted for an adult with 'no_means' and
    approved after the age was disputed takes effect unchanged: the presumed child's negative
    decision would rest on the adult-only element of the definition. Approval refuses it."""
    drafted = services.decision_record_reasonable_grounds(
        by=dmitri,
        case=case,
        outcome="negative",
        reasons="No means of control shown.",
        negative_reason="no_means",
        expected_version=case.version,
    )
    case.refresh_from_db()
    safeguarding.age_dispute_raise(
        by=alice, case=case, basis="says_so", expected_version=case.version
    )
    case.refresh_from_db()
    assert case.is_child
    with pytest.raises(ValidationError, match="cannot take effect as drafted"):
        services.decision_approve(by=sally, decision=drafted, approve=True)
    drafted.refresh_from_db()
    assert drafted.state != DecisionState.IN_EFFECT
    # Refusing it stays possible, so that a new decision can be made.
    services.decision_approve(by=sally, decision=drafted, approve=False, note="A presumed child")
    drafted.refresh_from_db()
    assert drafted.state == DecisionState.APPROVAL_REFUSED


def test_a_deadline_reminder_reaches_a_current_decision_maker_not_one_whose_role_was_removed(
    case: Case, dmitri: User, sally: User, authority: Organisation
) -> None:
    """The case is assigned to Dmitri; his decision-maker role at the authority is then taken
    away (membership deactivated). The daily reminder goes to the decision makers who can act,
    not to him (he may no longer open the case)."""
    factories.user("dora@example.org", organisation=authority, role=Role.DECISION_MAKER)
    services.case_assign(by=dmitri, case=case, assignee=dmitri, expected_version=case.version)
    Membership.objects.filter(user=dmitri, organisation=authority).update(is_active=False)
    today = timezone.localdate()
    Case.objects.filter(pk=case.pk).update(reasonable_grounds_due=today + timedelta(days=1))
    reminders.run(today)
    told = set(
        Notification.objects.filter(kind="decision.reminder").values_list(
            "recipient__email", flat=True
        )
    )
    assert "dmitri@example.org" not in told, told
    assert {"dora@example.org", "sally@example.org"} <= told, told


def test_a_childs_positive_reasonable_grounds_letter_says_childrens_services_look_after_them(
    alice: User, northmoor_police: Organisation, authority: Organisation, dmitri: User
) -> None:
    """The adult letter promises "a safe place to stay ... money" from adult support; a child's
    place and support are arranged by children's services, and the letter says so."""
    case = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.PRESUMED_CHILD,
        given_names="Zorica",
    )
    case.person.languages = ["en"]
    case.person.save(update_fields=["languages"])
    decision = services.decision_record_reasonable_grounds(
        by=dmitri, case=case, outcome="positive", reasons="Credible.", expected_version=case.version
    )
    text = Letter.objects.get(decision=decision).text
    assert text is not None
    words = text["next"]
    assert "children's services look after you" in words
    assert "money" not in words
