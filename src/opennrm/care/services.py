"""Every write of care: a person's support plan (Convention Art. 12(1)) and the services
delivered, missing episodes and returns, and erasure of their identifying text.

Notifications never name the person, the site or its address.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time, timedelta
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from opennrm.accommodation.services import (
    accommodation_records_pseudonymise,
    members_in_roles,
    support_coordinators,
)
from opennrm.accounts.actor import Actor, members_with_role
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.services import audit_record
from opennrm.cases.choices import AgeGroup, CaseStatus
from opennrm.cases.models import Case
from opennrm.cases.selectors import referrers_stand_in
from opennrm.cases.services import case_event_record
from opennrm.lib.govuk_forms import StaleVersion, saved_again
from opennrm.lib.text import as_lines
from opennrm.notifications.services import deliver
from opennrm.safety import selectors as safety

from . import selectors
from .models import (
    PROVIDED_BY_SOMEONE,
    ChildMissing,
    Measure,
    MeasureStatus,
    MissingEpisode,
    ServiceDelivery,
    SupportMeasure,
    SupportPlan,
)

# --- Support plans (Convention Art. 12(1)) ------------------------------------------------------
#
# A plan is kept only with an adult's consent to support (a child needs none), and only by
# support coordinators and the safe-house managers of the provider where the person is placed
# (`selectors.support_cases_for`). It starts the first time a measure or a delivery is recorded.
# Notes, outside services' names and what was delivered are encrypted; events name the fields
# changed, never their values.

MAX_NOTES = 5000
MAX_DESCRIPTION = 2000


def _check_support_staff(by: User, case: Case, doing: str) -> None:
    if not selectors.support_cases_for(Actor.of_session(by)).filter(pk=case.pk).exists():
        raise ValidationError(
            "Only support coordinators, and the safe-house managers of the provider where the "
            f"person is placed, can {doing}"
        )


def _check_not_erased(case: Case) -> None:
    if hasattr(case.person, "erasure"):
        raise ValidationError("This person's details have been erased")


def _check_consent(case: Case) -> None:
    problem = selectors.consent_problem(case)
    if problem:
        raise ValidationError(problem)


def _plan_for(case: Case, by: User) -> SupportPlan:
    plan = SupportPlan.objects.filter(case=case).first()
    if plan is not None:
        return plan
    try:
        with transaction.atomic():
            plan = SupportPlan.objects.create(case=case, started_at=timezone.now(), started_by=by)
    except IntegrityError:
        return SupportPlan.objects.get(case=case)  # started a moment ago by someone else
    case_event_record(
        case=case, kind="support.plan_started", description="Support plan started", by=by
    )
    return plan


def _who_problems(
    provider: Organisation | None, outside_provider: str, *, required: bool, verb: str
) -> dict[str, str]:
    if provider is not None and outside_provider:
        return {"outside_provider": "Choose an organisation or name an outside service, not both"}
    if provider is not None and not provider.is_active:
        return {"provider": "Choose an organisation from the list"}
    if len(outside_provider) > 200:
        return {"outside_provider": "The outside service's name must be 200 characters or fewer"}
    if required and provider is None and not outside_provider:
        return {
            "provider": f"Say who {verb} it: choose an organisation, or name an outside service"
        }
    return {}


# How far ahead a measure's dates may be planned (as a case task's due date may be).
LONGEST_AHEAD = timedelta(days=2 * 366)


def _bound_problems(
    starts_on: date | None, ends_on: date | None, referred_on: date, today: date
) -> dict[str, str]:
    """A measure's dates lie within the case's life: never before the person was referred (as
    a service delivered cannot), and planned no more than 2 years ahead (as a case task)."""
    problems: dict[str, str] = {}
    for field, what, day in (
        ("starts_on", "The start date", starts_on),
        ("ends_on", "The end date", ends_on),
    ):
        if day is not None and day < referred_on:
            problems[field] = (
                f"{what} cannot be before they were referred ({referred_on:%-d %B %Y})"
            )
        elif day is not None and day > today + LONGEST_AHEAD:
            problems[field] = f"{what} must be within 2 years"
    return problems


def _date_problems(
    status: str, starts_on: date | None, ends_on: date | None, referred_on: date
) -> dict[str, str]:
    """A measure's dates: in the past once it is being or has been provided, the end not
    before the start, and within the case's life (`_bound_problems`)."""
    today = timezone.localdate()
    problems: dict[str, str] = {}
    if status in (MeasureStatus.BEING_PROVIDED, MeasureStatus.PROVIDED):
        if starts_on is None:
            problems["starts_on"] = "Enter the date it started"
        elif starts_on > today:
            problems["starts_on"] = "The date it started must be today or earlier"
    if status == MeasureStatus.PROVIDED:
        if ends_on is None:
            problems["ends_on"] = "Enter the date it ended"
        elif ends_on > today:
            problems["ends_on"] = "A measure marked provided must have ended today or earlier"
    if starts_on and ends_on and ends_on < starts_on and "ends_on" not in problems:
        problems["ends_on"] = "The end date must be the same as or after the start date"
    # One message a field: a problem found above is the one shown.
    return _bound_problems(starts_on, ends_on, referred_on, today) | problems


def _measure_problems(
    status: str,
    starts_on: date | None,
    ends_on: date | None,
    provider: Organisation | None,
    outside_provider: str,
    notes: str,
    referred_on: date,
) -> dict[str, str]:
    if status not in MeasureStatus.values:
        problems = {"status": "Select the status of this measure"}
    else:
        problems = _who_problems(
            provider, outside_provider, required=status in PROVIDED_BY_SOMEONE, verb="provides"
        )
    problems |= _date_problems(status, starts_on, ends_on, referred_on)
    if len(notes) > MAX_NOTES:
        problems["notes"] = f"Notes must be {MAX_NOTES:,} characters or fewer"
    return problems


@transaction.atomic
def support_measure_update(
    *,
    by: User,
    case: Case,
    measure: str,
    expected_version: int,
    status: str = "",
    starts_on: date | None = None,
    ends_on: date | None = None,
    provider: Organisation | None = None,
    outside_provider: str = "",
    notes: str = "",
) -> SupportMeasure:
    """Set one measure of the person's plan: its status, dates, who provides it, and notes.

    While a placement holds a bed for the person, the accommodation's status, dates and
    provider follow the placement (`selectors.plan_rows`); only its notes are saved then.
    Sent with an old version it is refused as stale, unless it is the writer's own last save
    sent again (`saved_again`): that measure is returned, and nothing more is written.
    """
    _check_support_staff(by, case, "change a support plan")
    _check_not_erased(case)
    _check_consent(case)
    plan = _plan_for(case, by)
    planned = plan.measures.values_list("measure", flat=True)
    if measure not in selectors.measures_for(case, having=planned):
        if measure == Measure.EDUCATION:
            raise ValidationError("Education is part of a child's support plan only")
        raise ValueError(f"not a measure: {measure!r}")
    row, _ = SupportMeasure.objects.get_or_create(plan=plan, measure=measure)
    locked = SupportMeasure.objects.select_for_update().get(pk=row.pk)
    # Line breaks as the writer counts them: a browser sends each as CR LF.
    notes, outside_provider = as_lines(notes).strip(), outside_provider.strip()
    follows_placement = (
        measure == Measure.ACCOMMODATION and selectors.live_placement_of(case) is not None
    )
    changes: dict[str, Any] = (
        {"notes": notes}
        if follows_placement
        else {
            "status": status,
            "starts_on": starts_on,
            "ends_on": ends_on,
            "provider_id": provider.pk if provider else None,
            "outside_provider": outside_provider,
            "notes": notes,
        }
    )
    if locked.version != expected_version:
        if saved_again(locked, by.pk, expected_version, changes):
            return locked  # the same save sent twice: nothing more to write
        raise StaleVersion(
            "Someone else changed this measure while you were working on it. Your answers are "
            "still here: check the measure, then save again.",
            current=locked.version,
        )
    if follows_placement:
        if len(notes) > MAX_NOTES:
            raise ValidationError({"notes": f"Notes must be {MAX_NOTES:,} characters or fewer"})
    else:
        problems = _measure_problems(
            status, starts_on, ends_on, provider, outside_provider, notes, _referred_on(case)
        )
        if problems:
            raise ValidationError(problems)
    changed = sorted(
        field.removesuffix("_id")
        for field, value in changes.items()
        if getattr(locked, field) != value
    )
    for field, value in changes.items():
        setattr(locked, field, value)
    locked.version += 1
    locked.updated_at, locked.updated_by = timezone.now(), by
    locked.save(update_fields=[*changes, "version", "updated_at", "updated_by"])
    audit_record(
        by=by,
        action="support_measure.updated",
        obj=locked,
        detail={"measure": measure, "status": locked.status, "fields": changed},
    )
    return locked


def _same_delivery(
    earlier: ServiceDelivery,
    measure: str,
    delivered_on: date,
    description: str,
    provider: Organisation | None,
    outside_provider: str,
) -> bool:
    """Whether a form sent again with an entry's key holds the same answers: a double click,
    not a form changed after going Back."""
    return (
        earlier.measure == measure
        and earlier.delivered_on == delivered_on
        and earlier.description == description.strip()
        and earlier.provider_id == (provider.pk if provider else None)
        and earlier.outside_provider == outside_provider.strip()
    )


@transaction.atomic
def service_delivery_record(
    *,
    by: User,
    case: Case,
    measure: str,
    delivered_on: date,
    description: str,
    provider: Organisation | None = None,
    outside_provider: str = "",
    submission_key: UUID | None = None,
) -> ServiceDelivery:
    """Add to the services delivered log: what was delivered to the person, under which
    measure, on which day, by whom.

    An entry can never be corrected or removed, so the same form sent twice (`submission_key`,
    the form's one-time key) logs it once: the second time, the entry the first logged is
    returned, and nothing is written or recorded again (as `casework.services.case_note_add`)."""
    _check_support_staff(by, case, "record a service delivered")
    # Line breaks as the writer counts them: a browser sends each as CR LF.
    description = as_lines(description)
    _check_not_erased(case)
    _check_consent(case)
    if submission_key is not None:
        # The case's lock: a second click sent at once waits for the first to commit.
        Case.objects.select_for_update().filter(pk=case.pk).exists()
        earlier = ServiceDelivery.objects.filter(
            recorded_by=by, submission_key=submission_key
        ).first()
        if (
            earlier is not None
            and earlier.plan.case_id == case.pk
            and _same_delivery(
                earlier, measure, delivered_on, description, provider, outside_provider
            )
        ):
            return earlier
        if earlier is not None:
            # A key is one form of one case (unique for its author in the database): sent to
            # another case (a copied or replayed form), or sent again with other answers (the
            # form changed after going Back), it guards nothing there, and the entry is logged
            # without it rather than dropped, or refused by the constraint as a server error.
            submission_key = None
    plan = _plan_for(case, by)
    description, outside_provider = description.strip(), outside_provider.strip()
    planned = plan.measures.values_list("measure", flat=True)
    problems: dict[str, str] = {}
    if measure not in selectors.measures_for(case, having=planned):
        problems["measure"] = "Select the measure it was delivered under"
    if delivered_on > timezone.localdate():
        problems["delivered_on"] = "The day it was delivered must be today or earlier"
    elif delivered_on < _referred_on(case):
        problems["delivered_on"] = (
            "The day it was delivered cannot be before they were referred "
            f"({_referred_on(case):%-d %B %Y})"
        )
    if not description:
        problems["description"] = "Enter what was delivered"
    elif len(description) > MAX_DESCRIPTION:
        problems["description"] = (
            f"What was delivered must be {MAX_DESCRIPTION:,} characters or fewer"
        )
    problems |= _who_problems(provider, outside_provider, required=True, verb="delivered")
    if problems:
        raise ValidationError(problems)
    delivery = ServiceDelivery.objects.create(
        plan=plan,
        measure=measure,
        delivered_on=delivered_on,
        provider=provider,
        outside_provider=outside_provider,
        description=description,
        recorded_at=timezone.now(),
        recorded_by=by,
        submission_key=submission_key,
    )
    audit_record(
        by=by, action="service_delivery.recorded", obj=delivery, detail={"measure": measure}
    )
    return delivery


# --- Missing episodes -------------------------------------------------------------------------
#
# Reporting someone missing tells at once, in the app and by e-mail, and never with their name
# or address: the police contact (the referring force's first responders when a police force
# referred them; otherwise the coordinators, asked to report it to the police), the support
# coordinators and the provider's safe-house managers, the competent authority's decision makers
# (a decision still to be made may need to be suspended), and for a child the local authority
# and the child guardian service of the case's area (or, if OpenNRM knows neither, the support
# staff, asked to contact the area's children's services). For a child (or a person treated as
# one while their age is disputed) every message says that a child is missing, urgently; every
# message carries the risk level of their safety profile, never its reasons. An adult whose
# safety profile records a dependent child goes missing with the child (a dependant is placed
# with them): children's services are told as for a missing child, and everyone else is told
# that a child may be with them. Who in children's services is told is settled at the report and
# kept on the episode (`MissingEpisode.child_missing`): the same people are told of the return,
# whatever the person's age by then (a child who turned 18, or was assessed an adult, meanwhile).


def _support_organisation(by: User) -> Organisation | None:
    membership = (
        members_with_role(
            None, {Role.SUPPORT_COORDINATOR, Role.SAFE_HOUSE_MANAGER, Role.SAFEGUARDING_LEAD}
        )
        .filter(user=by)
        .select_related("organisation")
        .order_by("role", "pk")
        .first()
    )
    return membership.organisation if membership else None


def _when(day: date, at: time | None) -> str:
    return f"{day:%-d %B %Y}" + (f" at {at:%H:%M}" if at else "")


def _referred_on(case: Case) -> date:
    return timezone.localdate(case.submitted_at)


def _check_not_before(
    day: date, field: str, what: str, bounds: list[tuple[date | None, str]]
) -> None:
    """A day about the person cannot come before the records it belongs to (their referral)."""
    for bound, event in bounds:
        if bound is not None and day < bound:
            raise ValidationError({field: f"{what} cannot be before {event} ({bound:%-d %B %Y})"})


def _check_not_in_future(
    day: date, at: time | None, day_field: str, time_field: str, what: str
) -> None:
    now = timezone.localtime()
    if day > now.date():
        raise ValidationError({day_field: f"The day {what} must be today or earlier"})
    if at is not None and day == now.date() and at > now.time():
        raise ValidationError({time_field: f"The time {what} must be now or earlier"})


def _the_person(case: Case) -> str:
    """Who went missing, in the words of a message that names nobody."""
    if case.age_group == AgeGroup.PRESUMED_CHILD:
        return "a person treated as a child (their age is disputed)"
    return "a child" if case.is_child else "the person"


def _risk_words(case: Case) -> str:
    """The risk level of the person's safety profile, which names nobody: never its reasons."""
    profile = safety.profile_of(case)
    if profile is None:
        return " No risk level is recorded in their safety profile."
    return f" Risk level in their safety profile: {profile.get_risk_level_display().lower()}."


def _tell_leads(
    *,
    case: Case,
    kind: str,
    leads: list[User],
    subject: str,
    body: str,
    episode: MissingEpisode | None = None,
) -> int:
    """The area's safeguarding leads, with a link each of them can open: a child's case; the
    episode of a person reported missing as a child who is an adult now (the local authority
    may no longer open their case, but records their return: `missing_episodes_visible_to`);
    or, for an adult's (a parent missing with a dependent child), the children of their area
    (they may not open an adult's case)."""
    if case.is_child:
        url = reverse("cases:detail", args=[case.reference])
    elif episode is not None and episode.child_missing == ChildMissing.PERSON:
        url = reverse("support:missing_episode", args=[episode.pk])
    else:
        url = reverse("safety:children_in_area")
    return len(deliver(recipients=leads, kind=kind, case=case, url=url, subject=subject, body=body))


def _tell_leads_child_missing(
    *, case: Case, kind: str, leads: list[User], since: str, ask: str, children_with: int = 0
) -> int:
    """The safeguarding leads of a missing child's area, or of the area of an adult gone
    missing with `children_with` dependent children (of whom they were told when they were
    recorded, ADR 26): a missing child, act today."""
    if case.is_child:
        subject = f"Child missing in {case.area}: {case.reference}"
        who = "A child"
        with_them = ""
    else:
        child = "a dependent child" if children_with == 1 else f"{children_with} dependent children"
        subject = f"Child missing with a parent in {case.area}: {case.reference}"
        who = "An adult"
        with_them = (
            f" Their safety profile records {child} under 18 placed with them, taken to be "
            "missing with them."
        )
    return _tell_leads(
        case=case,
        kind=kind,
        leads=leads,
        subject=subject,
        body=f"{who} in {case.area}, referred as a potential victim of trafficking, went "
        f"missing on {since}.{with_them} Safeguard first: act today." + _risk_words(case) + ask,
    )


def _safeguarding_event(case: Case, leads: dict[str, list[User]]) -> None:
    """The timeline of a missing child (or of a parent missing with one): who in children's
    services was told, or that nobody could be and support staff were asked to contact them."""
    told = [
        label
        for kind, label in (
            (OrganisationKind.LOCAL_AUTHORITY, "Local authority"),
            (OrganisationKind.CHILD_GUARDIAN_SERVICE, "child guardian service"),
        )
        if leads.get(kind)
    ]
    if told:
        case_event_record(
            case=case,
            kind="support.missing_safeguarding_told",
            description=f"{' and '.join(told).capitalize()} in {case.area} told at once",
            by=None,
        )
    else:
        case_event_record(
            case=case,
            kind="support.missing_safeguarding_not_told",
            description="No local authority or child guardian service for "
            f"{case.area or 'the area'} in OpenNRM: support staff asked to contact the area's "
            "children's services now",
            by=None,
        )


def _no_leads_words(case: Case) -> str:
    return (
        " OpenNRM knows no local authority or child guardian service for "
        f"{case.area or 'their area'}: contact the area's children's services now and tell them "
        "a child is missing."
    )


def _tell_childrens_services(
    *,
    case: Case,
    episode: MissingEpisode,
    kind: str,
    leads: list[User],
    news: str,
    since: str,
    ask: str,
    children_with: int,
    returned: bool,
) -> int:
    """The area's safeguarding leads, of a missing child or of a parent missing with dependent
    children (`children_with`): gone missing (act today) or back, as the report said
    (`episode.child_missing`); how many were told."""
    if returned:
        return _tell_leads(
            case=case,
            kind=kind,
            leads=leads,
            subject=f"Child back in {case.area}: {case.reference}"
            if episode.child_missing == ChildMissing.PERSON
            else f"Back in {case.area}: the parent missing with a dependent child, {case.reference}",
            body=news,
            episode=episode,
        )
    return _tell_leads_child_missing(
        case=case, kind=kind, leads=leads, since=since, ask=ask, children_with=children_with
    )


def _tell_about_missing(
    *,
    case: Case,
    episode: MissingEpisode,
    by: User,
    returned: bool,
) -> dict[str, int]:
    """Everyone who must know that the person went missing, or is back, with the risk level of
    their safety profile; for a child, each told that it is a child, and for an adult with a
    dependent child, that the child is taken to be with them. Nothing here names the person,
    the site or its address, nor says where they were last seen."""
    url = reverse("cases:detail", args=[case.reference])
    reporter = _support_organisation(by)
    who = reporter.name if reporter else "Support staff"
    since = _when(episode.went_missing_on, episode.went_missing_time)
    if returned and episode.returned_on is not None:
        back = "child" if case.is_child else "person"
        subject = f"Case {case.reference}: the {back} reported missing is back"
        news = (
            f"{who} recorded that the {back}, missing since {since}, came back on "
            f"{_when(episode.returned_on, episode.returned_time)}."
        )
    elif case.is_child:
        subject = f"Urgent: case {case.reference}: a child has gone missing"
        news = (
            f"{who} reported that {_the_person(case)} went missing on {since}. A missing child "
            "is at serious risk of harm: this is urgent."
        )
    else:
        subject = f"Case {case.reference}: the person has gone missing"
        news = f"{who} reported that the person went missing on {since}."
    # A child's own case already tells everyone that a child is missing; who in children's
    # services is told was settled at the report, and hears of the return.
    children_with = (
        selectors.dependent_children_of(case)
        if episode.child_missing == ChildMissing.WITH_THEM and not returned
        else 0
    )
    if children_with:
        subject += ", with a dependent child"
        news += (
            " Their safety profile records "
            + ("a dependent child" if children_with == 1 else f"{children_with} dependent children")
            + " under 18 placed with them, taken to be missing with them."
        )
    news += _risk_words(case)
    kind = "missing.returned" if returned else "missing.reported"
    ask = f" Contact {who} for when and where they were last seen."
    police_referred = case.referring_organisation.kind == OrganisationKind.STATUTORY_FIRST_RESPONDER
    childrens_services = episode.childrens_services_told
    leads = selectors.child_safeguarding_leads(case) if childrens_services else {}
    lead_users = list({u.pk: u for users in leads.values() for u in users}.values())
    told: dict[str, int] = {}
    if police_referred:
        told["police"] = len(
            deliver(
                recipients=members_in_roles(
                    [case.referring_organisation_id], {Role.FIRST_RESPONDER}
                ),
                kind=kind,
                case=case,
                url=url,
                subject=subject,
                body=news
                + (
                    ""
                    if returned
                    else ask + (" Treat this as a missing child." if case.is_child else "")
                ),
                stand_in=lambda: referrers_stand_in(case),
            )
        )
    placement = episode.placement
    house = placement.bed.room.site.provider if placement is not None else None
    managers = members_in_roles([house.pk], {Role.SAFE_HOUSE_MANAGER}) if house else []
    if returned:
        # Whoever the staff were asked to alert when the person went missing must hear that they
        # are back (a missing person's report closed, a child's return interview): OpenNRM told
        # nobody there, so the staff are asked to, as they were asked to report.
        to_staff = news + (
            " The police have been told."
            if police_referred
            else " Tell the police you reported them missing to that they are back, giving the "
            "case reference."
        )
        if childrens_services and not lead_users:
            to_staff += (
                " OpenNRM knows no local authority or child guardian service for "
                f"{case.area or 'their area'}: tell the area's children's services the child is "
                "back, so that they can hold a return interview."
            )
    elif police_referred:
        to_staff = news + " The police force that referred them has been told."
    else:
        to_staff = (
            news + " They were not referred by the police: report them missing to the police "
            "now"
            + (", as a missing child" if case.is_child else "")
            + ", giving the case reference, and record their return when they are back."
        )
    if childrens_services and not returned and not lead_users:
        to_staff += _no_leads_words(case)
    # The support coordinators are told nationally; the house's managers as its provider's
    # staff, so that the news is e-mailed to them only while they still work there (ADR 0008),
    # those told already as coordinators left out.
    coordinators = [u for u in support_coordinators() if u.pk != by.pk]
    staff = [u for u in managers if u.pk != by.pk and u not in coordinators]
    told["support"] = sum(
        len(
            deliver(
                recipients=recipients,
                kind=kind,
                case=case,
                url=reverse("support:missing_episode", args=[episode.pk]),
                subject=subject,
                body=to_staff,
                organisation=organisation,
            )
        )
        for recipients, organisation in ((coordinators, None), (staff, house))
    )
    told["authority"] = len(
        deliver(
            recipients=members_in_roles(
                [case.competent_authority_id],
                {Role.DECISION_MAKER, Role.SENIOR_DECISION_MAKER},
            ),
            kind=kind,
            case=case,
            url=url,
            subject=subject,
            body=news
            + (
                (
                    " The reasonable grounds decision suspended while they were missing can be "
                    "made now: the case is listed apart on the reasonable grounds queue."
                    if case.status == CaseStatus.RG_SUSPENDED
                    else ""
                )
                if returned
                else " A reasonable grounds decision still to be made may need to be suspended "
                "while they are missing."
            ),
        )
    )
    if childrens_services:
        told["safeguarding"] = _tell_childrens_services(
            case=case,
            episode=episode,
            kind=kind,
            leads=[u for u in lead_users if u.pk != by.pk],
            news=news,
            since=since,
            ask=ask,
            children_with=children_with,
            returned=returned,
        )
    return told


def _check_not_missing_then(case: Case, day: date, at: time | None) -> None:
    """A person cannot go missing while they were missing before: a new episode starts after
    the latest return recorded (the same day only at a time after it)."""
    last = selectors.last_return_of(case)
    if last is None or last.returned_on is None or day > last.returned_on:
        return
    back = _when(last.returned_on, last.returned_time)
    if day < last.returned_on:
        raise ValidationError(
            {
                "went_missing_on": f"They were missing until {back}: the day they went missing "
                "again must be after that"
            }
        )
    if at is None:
        raise ValidationError(
            {
                "went_missing_time": f"They came back on {back}: if they went missing again the "
                "same day, enter the time they went missing"
            }
        )
    if last.returned_time is not None and at <= last.returned_time:
        raise ValidationError(
            {
                "went_missing_time": f"They came back on {back}: the time they went missing "
                "again must be after that"
            }
        )


@transaction.atomic
def missing_report(
    *,
    by: User,
    case: Case,
    went_missing_on: date,
    went_missing_time: time | None = None,
    last_seen: str,
) -> MissingEpisode:
    """Record that the person has gone missing, and tell everyone who must know at once.

    Support staff report the people they support (`_check_support_staff`); the local
    authority's safeguarding leads also report the children of their area, housed by support
    or by the local authority (`selectors.missing_cases_for`). The open episode's own report
    sent again by its reporter (the same day, time and last-seen text) returns that episode,
    and nobody is told twice; any other report while they are missing is refused."""
    if not selectors.missing_cases_for(Actor.of_session(by)).filter(pk=case.pk).exists():
        raise ValidationError(
            "Only support coordinators, the safe-house managers of the provider where the person "
            "is placed and, for a child, the safeguarding leads of the local authority of their "
            "area, can report that a person has gone missing"
        )
    _check_not_erased(case)
    # Line breaks as the writer counts them: a browser sends each as CR LF.
    last_seen = as_lines(last_seen).strip()
    if not last_seen:
        raise ValidationError(
            {"last_seen": "Enter what is known of when and where they were last seen"}
        )
    if len(last_seen) > MAX_DESCRIPTION:
        raise ValidationError(
            {"last_seen": f"What is known must be {MAX_DESCRIPTION:,} characters or fewer"}
        )
    _check_not_in_future(
        went_missing_on,
        went_missing_time,
        "went_missing_on",
        "went_missing_time",
        "they went missing",
    )
    locked = Case.objects.select_for_update().get(pk=case.pk)
    _check_not_before(
        went_missing_on,
        "went_missing_on",
        "The day they went missing",
        [(_referred_on(locked), "they were referred")],
    )
    already = selectors.open_missing_episode(locked)
    if already is not None and (
        already.reported_by_id == by.pk
        and already.went_missing_on == went_missing_on
        and already.went_missing_time == went_missing_time
        and already.last_seen == last_seen
    ):
        # The reporter's own report sent again (a second click, a browser retrying the POST):
        # it was recorded and everyone told the first time; nothing more is written or sent.
        return already
    if already is not None:
        raise ValidationError(
            f"This person is already recorded as missing since "
            f"{already.went_missing_on:%-d %B %Y}. Record their return before reporting them "
            "missing again."
        )
    _check_not_missing_then(locked, went_missing_on, went_missing_time)
    try:
        with transaction.atomic():
            episode = MissingEpisode.objects.create(
                case=locked,
                placement=selectors.live_placement_of(locked),
                went_missing_on=went_missing_on,
                went_missing_time=went_missing_time,
                last_seen=last_seen,
                reported_at=timezone.now(),
                reported_by=by,
                child_missing=selectors.child_missing_if_reported(locked),
            )
    except IntegrityError:
        raise ValidationError(
            "Someone reported this person missing a moment ago: their report is on the case"
        ) from None
    told = _tell_about_missing(case=locked, episode=episode, by=by, returned=False)
    case_event_record(
        case=locked,
        kind="support.missing",
        description=f"Reported missing since {episode.went_missing_on:%-d %B %Y}",
        by=by,
    )
    if told.get("police"):
        case_event_record(
            case=locked,
            kind="support.missing_police_told",
            description="The referring police force was told",
            by=None,
        )
    if "safeguarding" in told:  # a child, or a parent with a dependent child: told above
        _safeguarding_event(locked, selectors.child_safeguarding_leads(locked))
    audit_record(by=by, action="missing_episode.reported", obj=episode, detail={"told": told})
    return episode


@transaction.atomic
def missing_return(
    *, by: User, episode: MissingEpisode, returned_on: date, returned_time: time | None = None
) -> MissingEpisode:
    """Record that a person reported missing is back, and tell the same people."""
    if (
        not selectors.missing_episodes_visible_to(Actor.of_session(by))
        .filter(pk=episode.pk)
        .exists()
    ):
        raise ValidationError(
            "Only support coordinators, the safe-house managers of the provider the person "
            "went missing from and, for a child, the safeguarding leads of the local authority "
            "of their area, can record their return"
        )
    locked = (
        # Lock the episode's row only: PostgreSQL cannot lock the nullable side of the outer
        # join to the placement.
        MissingEpisode.objects.select_for_update(of=("self",))
        .select_related("case__referring_organisation", "placement__bed__room__site__provider")
        .get(pk=episode.pk)
    )
    if locked.returned_on is not None:
        raise ValidationError(
            f"Their return was already recorded: they came back on {locked.returned_on:%-d %B %Y}"
        )
    if returned_on < locked.went_missing_on:
        raise ValidationError(
            {
                "returned_on": "The day they came back cannot be before the day they went "
                f"missing ({locked.went_missing_on:%-d %B %Y})"
            }
        )
    reported_on = timezone.localdate(locked.reported_at)
    if returned_on < reported_on:
        # Back before anyone reported them missing: they were not missing when reported.
        raise ValidationError(
            {
                "returned_on": "The day they came back cannot be before the day they were "
                f"reported missing ({reported_on:%-d %B %Y})"
            }
        )
    _check_not_in_future(
        returned_on, returned_time, "returned_on", "returned_time", "they came back"
    )
    if (
        returned_on == locked.went_missing_on
        and returned_time is not None
        and locked.went_missing_time is not None
        and returned_time < locked.went_missing_time
    ):
        raise ValidationError(
            {
                "returned_time": "The time they came back cannot be before the time they went "
                f"missing ({locked.went_missing_time:%H:%M})"
            }
        )
    locked.returned_on, locked.returned_time = returned_on, returned_time
    locked.return_recorded_at, locked.return_recorded_by = timezone.now(), by
    locked.save(
        update_fields=["returned_on", "returned_time", "return_recorded_at", "return_recorded_by"]
    )
    told = _tell_about_missing(case=locked.case, episode=locked, by=by, returned=True)
    case_event_record(
        case=locked.case,
        kind="support.returned",
        description=f"Back after being missing since {locked.went_missing_on:%-d %B %Y}",
        by=by,
    )
    audit_record(by=by, action="missing_episode.returned", obj=locked, detail={"told": told})
    return locked


def missing_child_age_disputed(*, case: Case, by: User) -> dict[str, int]:
    """A person missing now whose age becomes disputed is a missing child from now: the
    safeguarding leads of their area are told at once, as for a child reported missing (if
    OpenNRM knows none, the support staff are asked to contact the area's children's services).
    Nothing when they are not missing. Called inside `safeguarding.services.age_dispute_raise`
    (registered there by `care.apps`), whose audit event holds the counts returned."""
    episode = selectors.open_missing_episode(case)
    if episode is None:
        return {}
    # A missing child from now: children's services are told of the return too.
    episode.child_missing = ChildMissing.PERSON
    episode.save(update_fields=["child_missing"])
    leads = selectors.child_safeguarding_leads(case)
    lead_users = list({u.pk: u for users in leads.values() for u in users}.values())
    reporter = _support_organisation(episode.reported_by)
    who = reporter.name if reporter else "Support staff"
    since = _when(episode.went_missing_on, episode.went_missing_time)
    told = {
        "missing_child_leads": _tell_leads_child_missing(
            case=case,
            kind="missing.reported",
            leads=lead_users,
            since=since,
            ask=f" Their age is disputed: they are treated as a child. Contact {who} for when "
            "and where they were last seen.",
        )
    }
    if not lead_users:
        told["missing_child_support"] = len(
            deliver(
                recipients=support_coordinators(),
                kind="missing.reported",
                case=case,
                url=reverse("support:missing_episode", args=[episode.pk]),
                subject=f"Urgent: case {case.reference}: a child has gone missing",
                body=f"The person missing since {since} is now treated as a child: their age "
                "is disputed." + _risk_words(case) + _no_leads_words(case),
            )
        )
    _safeguarding_event(case, leads)
    return told


# --- Erasure ------------------------------------------------------------------------------------


def support_records_pseudonymise(case_ids: Sequence[int]) -> dict[str, int]:
    """Empty every support record's text that could identify the person: plan notes, outside
    services' names, what was delivered, where they were last seen, and the accommodation
    records' places to keep away from and the reasons worded from them
    (`accommodation.services.accommodation_records_pseudonymise`). Dates, statuses and measures
    stay, for the figures. Called only inside `privacy.services._remove_identifying_records`,
    whose audit event covers it."""
    return {
        "support_notes": SupportMeasure.objects.filter(plan__case_id__in=case_ids).update(
            notes="", outside_provider=""
        ),
        "services_delivered": ServiceDelivery.objects.filter(plan__case_id__in=case_ids).update(
            description="", outside_provider=""
        ),
        "missing_last_seen": MissingEpisode.objects.filter(case_id__in=case_ids).update(
            last_seen=""
        ),
        **accommodation_records_pseudonymise(case_ids),
    }
