"""Cases in a given state, built directly (not through the referral journey) for speed."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

from django.utils import timezone

from opennrm.accounts.actor import DECIDERS, members_with_role
from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import Jurisdiction, Role
from opennrm.accounts.services import membership_set_active
from opennrm.cases.choices import AgeGroup, CaseStatus, CloseReason, ExploitationLocation, Sex
from opennrm.cases.models import Case, Person
from opennrm.cases.services import case_close, case_open, case_rows
from opennrm.decisions.models import Decision, DecisionKind, DecisionState
from opennrm.policy import clock
from opennrm.policy.profiles import NoProfileError, OutcomeKind, profile_for
from tests import factories

_numbers = itertools.count(1)
UTC = timezone.get_fixed_timezone(0)

# When the cases of `consenting` were referred, unless a test says otherwise: a fixed hour, so
# that their dates are the same whichever day the tests run.
REFERRED_AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def case(
    *,
    referred_by: User,
    referring_organisation: Organisation,
    authority: Organisation,
    status: CaseStatus = CaseStatus.AWAITING_REASONABLE_GROUNDS,
    age_group: AgeGroup = AgeGroup.ADULT,
    area: str = "Testshire",
    given_names: str = "Test Person",
    family_name: str = "",
    date_of_birth: date | None = None,
    negative_reason: str = "insufficient_information",
    **fields: object,
) -> Case:
    """A case in `status`, with the decisions that status implies (a negative one with
    `negative_reason` as its main reason: "" for one decided before reasons were coded)."""
    number = next(_numbers)
    submitted_at = fields.pop("submitted_at", None) or timezone.now()
    assert isinstance(submitted_at, datetime)
    implied = dates_implied(
        status, timezone.localdate(submitted_at), referring_organisation.jurisdiction, age_group
    )
    # Through the same rows the referral service writes, without its first timeline entries.
    opened = case_open(
        case_rows(
            sex=Sex.FEMALE,
            age_at_referral=30,
            age_is_estimated=False,
            nationalities=["AL"],
            languages=["sq"],
            given_names=given_names,
            family_name=family_name,
            date_of_birth=date_of_birth,
            reference=f"NRM-TEST-{number:04d}",
            referring_organisation_id=referring_organisation.pk,
            referred_by_id=referred_by.pk,
            competent_authority_id=authority.pk,
            jurisdiction=referring_organisation.jurisdiction,
            area=area,
            age_group=age_group,
            exploitation_types=["labour"],
            exploitation_location=ExploitationLocation.UK,
            status=status,
            submitted_at=submitted_at,
            reasonable_grounds_due=fields.pop("reasonable_grounds_due", None),
            responders_account=fields.pop("responders_account", "Seen at a car wash."),
            **(implied | fields),
        )
    )
    decisions_implied(opened, negative_reason=negative_reason)
    return opened


# The decisions a status means were taken, each in effect from the day of the referral.
_DECISIONS_IMPLIED: dict[CaseStatus, tuple[tuple[DecisionKind, OutcomeKind], ...]] = {
    CaseStatus.NEGATIVE_REASONABLE_GROUNDS: (
        (DecisionKind.REASONABLE_GROUNDS, OutcomeKind.NEGATIVE),
    ),
    CaseStatus.RECOVERY_PERIOD: ((DecisionKind.REASONABLE_GROUNDS, OutcomeKind.POSITIVE),),
    CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS: (
        (DecisionKind.REASONABLE_GROUNDS, OutcomeKind.POSITIVE),
        (DecisionKind.CONCLUSIVE_GROUNDS, OutcomeKind.POSITIVE),
    ),
    CaseStatus.NEGATIVE_CONCLUSIVE_GROUNDS: (
        (DecisionKind.REASONABLE_GROUNDS, OutcomeKind.POSITIVE),
        (DecisionKind.CONCLUSIVE_GROUNDS, OutcomeKind.NEGATIVE),
    ),
}


def decisions_implied(
    case: Case, *, negative_reason: str = "insufficient_information"
) -> list[Decision]:
    """The decision rows a case in its status has, as the decision services would have left
    them: a case "in recovery period" has its positive reasonable grounds decision. Made by a
    decision maker of the case's authority when it has one, else by a user with no membership
    (so that no test's list of people told grows)."""
    wanted = _DECISIONS_IMPLIED.get(CaseStatus(case.status), ())
    if not wanted:
        return []
    referred_on = timezone.localdate(case.submitted_at)
    try:
        profile = profile_for(case.jurisdiction, referred_on)
    except NoProfileError:
        return []
    membership = (
        members_with_role(case.competent_authority_id, DECIDERS).select_related("user").first()
    )
    decider = (
        membership.user
        if membership is not None
        else factories.user(full_name="Factory decision maker")
    )
    made = []
    for kind, outcome_kind in wanted:
        outcomes = (
            profile.reasonable_grounds_outcomes
            if kind == DecisionKind.REASONABLE_GROUNDS
            else profile.conclusive_grounds_outcomes
        )
        outcome = next(o for o in outcomes if o.kind == outcome_kind)
        made.append(
            Decision.objects.create(
                case=case,
                kind=kind,
                outcome=outcome.code,
                outcome_label=outcome.label,
                outcome_kind=outcome.kind,
                negative_reason=negative_reason if outcome.kind == OutcomeKind.NEGATIVE else "",
                reasons="Decided on the evidence in the referral.",
                decided_by=decider,
                decided_at=case.submitted_at,
                state=DecisionState.IN_EFFECT,
                policy_profile_key=profile.key,
                policy_profile_version=profile.version,
            )
        )
    return made


def dates_implied(
    status: CaseStatus, referred_on: date, jurisdiction: str, age_group: AgeGroup
) -> dict[str, object]:
    """The dates a case in `status` has, as the decision services would have set them, each
    decision taken on the day of the referral (and a closed case closed now). A test that needs
    other dates passes them, and they win. The reasonable grounds target of a case still
    awaiting its decision is left to the tests that look at it, as before."""
    dates: dict[str, object] = {}
    if status == CaseStatus.CLOSED:
        dates["closed_at"] = timezone.now()
    try:
        profile = profile_for(jurisdiction, referred_on)
    except NoProfileError:
        return dates  # a test of rules from before any profile: it sets its own dates
    # As `Case.is_child`: a presumed child (age disputed) is treated as a child.
    adult = age_group not in (AgeGroup.CHILD, AgeGroup.PRESUMED_CHILD)
    decided = {
        CaseStatus.RECOVERY_PERIOD,
        CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS,
        CaseStatus.NEGATIVE_CONCLUSIVE_GROUNDS,
    }
    if status in decided:
        positive = clock.clocks_after_positive_rg(referred_on, jurisdiction, adult=adult)
        dates |= {
            "recovery_period_ends": positive.recovery_period_ends,
            "conclusive_grounds_from": positive.conclusive_grounds_earliest,
            "support_ends": positive.support_ends,
        }
    if status == CaseStatus.NEGATIVE_REASONABLE_GROUNDS:
        negative = clock.clocks_after_negative_rg(referred_on, jurisdiction)
        dates["reconsideration_until"] = negative.reconsideration_closes
    if status in (CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS, CaseStatus.NEGATIVE_CONCLUSIVE_GROUNDS):
        kind = (
            OutcomeKind.POSITIVE
            if status == CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS
            else OutcomeKind.NEGATIVE
        )
        outcome = next(o.code for o in profile.conclusive_grounds_outcomes if o.kind == kind)
        conclusive = clock.clocks_after_conclusive(referred_on, jurisdiction, outcome, adult=adult)
        dates |= {
            "move_on_ends": conclusive.move_on_ends,
            "reconsideration_until": conclusive.reconsideration_closes,
        }
    return dates


def withdrawn(
    referred_by: User,
    referring_organisation: Organisation,
    authority: Organisation,
    **fields: object,
) -> Case:
    """A case withdrawn before a decision, which its decision maker may close; otherwise as
    `case` builds it."""
    return case(
        referred_by=referred_by,
        referring_organisation=referring_organisation,
        authority=authority,
        status=CaseStatus.RG_WITHDRAWN,
        **fields,
    )


def closed(open_case: Case, *, by: User) -> Case:
    """The case closed by the decision maker `by` through the service (the person left), read
    fresh first so that its version is the one the service expects."""
    fresh = Case.objects.get(pk=open_case.pk)
    return case_close(by=by, case=fresh, reason=CloseReason.LEFT, expected_version=fresh.version)


def withdrawn_and_closed(
    referred_by: User,
    referring_organisation: Organisation,
    authority: Organisation,
    *,
    by: User,
    **fields: object,
) -> Case:
    """A `withdrawn` case, referred forty days ago unless `submitted_at` is given, then
    `closed` by the decision maker `by`: nothing open holds its person, so an erasure of their
    details may be approved."""
    fields.setdefault("submitted_at", timezone.now() - timedelta(days=40))
    return closed(withdrawn(referred_by, referring_organisation, authority, **fields), by=by)


def leaves(who: User, organisation: Organisation, *, by: User) -> None:
    """`who` leaves `organisation`: `by`, who administers it, takes their membership away (the
    referrer of a case leaving, whose news then goes to someone else)."""
    membership_set_active(
        by=by, membership=Membership.objects.get(user=who, organisation=organisation), active=False
    )


def refused_at_reasonable_grounds(case: Case, *, decider: User, approver: User) -> Case:
    """The case after a negative reasonable-grounds decision, made and approved through the
    decision services (so its reconsideration window is open), fresh from the database."""
    from opennrm.decisions import services as decisions

    drafted = decisions.decision_record_reasonable_grounds(
        by=decider,
        case=case,
        outcome="negative",
        negative_reason="insufficient_information",
        reasons="Not enough information.",
        expected_version=case.version,
    )
    decisions.decision_approve(by=approver, decision=drafted, approve=True)
    refused = Case.objects.get(pk=case.pk)
    assert refused.status == CaseStatus.NEGATIVE_REASONABLE_GROUNDS
    return refused


def refused_at_conclusive_grounds(case: Case, *, decider: User, approver: User) -> Case:
    """The case after a negative conclusive-grounds decision, made and approved through the
    decision services (so its move-on period and reconsideration window run), fresh."""
    from opennrm.decisions import services as decisions

    case = Case.objects.get(pk=case.pk)
    drafted = decisions.decision_record_conclusive_grounds(
        by=decider,
        case=case,
        outcome="insufficient_evidence",
        negative_reason="insufficient_information",
        reasons="Not enough evidence.",
        expected_version=case.version,
    )
    decisions.decision_approve(by=approver, decision=drafted, approve=True)
    return Case.objects.get(pk=case.pk)


def consenting(
    referred_by: User,
    referring_organisation: Organisation,
    authority: Organisation,
    **fields: object,
) -> Case:
    """A case whose person consented to support (so a coordinator may seek a place for them),
    referred at `REFERRED_AT` unless `submitted_at` is given; otherwise as `case` builds it."""
    fields.setdefault("submitted_at", REFERRED_AT)
    return case(
        referred_by=referred_by,
        referring_organisation=referring_organisation,
        authority=authority,
        consent_to_support=True,
        **fields,
    )


def refused_while_housed(
    referred_by: User,
    referring_organisation: Organisation,
    authority: Organisation,
    coordinator: User,
    manager: User,
    provider: Organisation,
    decider: User,
    approver: User,
    **fields: object,
) -> Case:
    """A `consenting` case whose person lives in a house of `provider` (placed by `coordinator`,
    taken in by `manager`, its safe-house manager), then refused at reasonable grounds by
    `decider` with `approver`'s approval, as `refused_at_reasonable_grounds` leaves it."""
    case = housed(
        referred_by, referring_organisation, authority, coordinator, manager, provider, **fields
    )
    return refused_at_reasonable_grounds(case, decider=decider, approver=approver)


def housed(
    referred_by: User,
    referring_organisation: Organisation,
    authority: Organisation,
    coordinator: User,
    manager: User,
    provider: Organisation,
    **fields: object,
) -> Case:
    """A `consenting` case whose person lives in a house of `provider` (placed by `coordinator`,
    taken in today by `manager`, its safe-house manager), fresh from the database."""
    from tests import support_plan_helpers

    case = consenting(referred_by, referring_organisation, authority, **fields)
    support_plan_helpers.living(coordinator, manager, provider, case)
    case.refresh_from_db()
    return case


def turning_18_today(
    referred_by: User, referring_organisation: Organisation, authority: Organisation
) -> Case:
    """A child's case referred two hundred days ago at 17 (the age known, not estimated), with a
    date of birth that makes them 18 today."""
    today = timezone.localdate()
    child = case(
        referred_by=referred_by,
        referring_organisation=referring_organisation,
        authority=authority,
        age_group=AgeGroup.CHILD,
        date_of_birth=clock.years_later(today, -18),
        submitted_at=timezone.now() - timedelta(days=200),
    )
    Person.objects.filter(pk=child.person_id).update(age_at_referral=17, age_is_estimated=False)
    return child


def referred_in_scotland(authority: Organisation, **fields: object) -> Case:
    """A case referred to `authority` by a first responder of a Scottish police force, as `case`
    builds it. The force and its first responder are made here, so call it once a test."""
    force = factories.organisation("Glenmoor Police", jurisdiction=Jurisdiction.SCOTLAND)
    fiona = factories.user("fiona@example.org", organisation=force, role=Role.FIRST_RESPONDER)
    return case(referred_by=fiona, referring_organisation=force, authority=authority, **fields)
