"""Who is protected from removal, by reference: the NRM case's own status, and any other source
another app adds (ADR 0040).

A source is a function from a reference and a day to a `Finding`, or None if the reference is
not its own. The NRM source is the case; `operations` (or any later app) registers its own with
`register_source` from its `AppConfig.ready()`, so a person taken in during an operation, who has
no case yet, is protected too. A reference is protected if any source says so.

Nothing here checks who asks: the only thing an answer carries is `Protection.answer`, the
same for an unknown reference as for one that is not protected. The services record the check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date

from django.db.models import Model, QuerySet
from django.http import Http404
from django.urls import reverse

from opennrm.accounts.actor import DECIDERS, Actor, members_with_role
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import Role
from opennrm.cases.models import Case, Person
from opennrm.cases.selectors import referrers_stand_in, referrers_to_tell
from opennrm.notifications.services import StandIn

from .models import PlannedRemoval
from .rules import NOT_PROTECTED, Protection, nrm_protection


def _nobody() -> list[User]:
    return []


@dataclass(frozen=True)
class Finding:
    """What a source knows of a reference: its protection, and, for the trail and the alert,
    the record and person it is about and who must be told of a planned removal."""

    protection: Protection
    # The record the reference names (a case, a reception record), for the audit trail.
    record: Model | None = None
    person: Person | None = None
    # The NRM case it belongs to, if any: the alert links to it.
    case: Case | None = None
    # Called only when a removal is planned while protected: who must be told at once.
    alert_recipients: Callable[[], Iterable[User]] = field(default=_nobody)
    # Called with the alert: a part of those told that is delivered on its own, with
    # `alert_stand_in` (`notifications.services.deliver(stand_in=...)`): left with nobody in it,
    # those who can put that right are told instead, never the alert itself. For an NRM case,
    # the referring side.
    alert_referrers: Callable[[], Iterable[User]] = field(default=_nobody)
    alert_stand_in: Callable[[], StandIn] | None = None
    # Where the people told can open the record ("" if they have no page for it).
    url: str = ""
    # When the answer is another record's (another referral of the person, or one confirmed
    # linked to it: `first_protecting`), the finding of the record the reference itself names:
    # the check is a read of its person too, whose data-protection officer's page must list it
    # (threat model 35).
    checked: Finding | None = None


NOT_FOUND = Finding(NOT_PROTECTED)

Source = Callable[[str, date], Finding | None]


# Who else is alerted of a removal planned for a case, besides its competent authority's
# decision makers and its referrer: added by other apps (`register_case_alert`, from their own
# modules: protection imports none of them). Safeguarding adds a child's children's services
# (`safeguarding.selectors.children_services_to_alert`).
_CASE_ALERTS: list[Callable[[Case], Iterable[User]]] = []


def register_case_alert(alert: Callable[[Case], Iterable[User]]) -> None:
    """Add a function giving, for a case, who else must be alerted of a removal planned while
    it protects the person (once; nobody, for a case it has nothing to add to)."""
    if alert not in _CASE_ALERTS:
        _CASE_ALERTS.append(alert)


def case_finding(case: Case, on: date) -> Finding:
    """The NRM protection of one case on `on`."""
    protection = nrm_protection(
        status=case.status,
        on=on,
        recovery_period_ends=case.recovery_period_ends,
        reconsideration_until=case.reconsideration_until,
    )
    return Finding(
        protection,
        record=case,
        person=case.person,
        case=case,
        alert_recipients=lambda: _case_alerted(case),
        # With no first responder left at the referring organisation, its administrators are
        # told that news waits for one (ADR 8), as for every other piece of news of the case,
        # even while the competent authority is alerted.
        alert_referrers=lambda: referrers_to_tell(case),
        alert_stand_in=lambda: referrers_stand_in(case),
        url=reverse("cases:detail", args=[case.reference]),
    )


def protection_of(case: Case, on: date) -> Protection:
    """The protection of a case on `on`, from every source (the case's status first)."""
    return protection_for_reference(case.reference, on).protection


def _case_deciders(case: Case) -> list[User]:
    """The competent authority's decision makers for the case (the first responder who
    referred the person is the finding's `alert_referrers`)."""
    deciders = members_with_role(case.competent_authority_id, DECIDERS).select_related("user")
    return [m.user for m in deciders]


def _case_alerted(case: Case) -> list[User]:
    """Who is alerted of a removal planned for the case, apart from the referring side (the
    finding's `alert_referrers`): its competent authority's decision makers, and those other
    apps add (for a child, the local authority and guardian service of their area: ADR 0025,
    a child is the local authority's responsibility). `deliver` tells each once."""
    return [*_case_deciders(case), *(user for alert in _CASE_ALERTS for user in alert(case))]


def case_by_reference(reference: str) -> Case | None:
    """The case of an NRM reference, with what its finding reads (`case_finding`)."""
    return Case.objects.select_related("person", "referred_by").filter(reference=reference).first()


def nrm_source(reference: str, on: date) -> Finding | None:
    """The referral's own finding; but a person referred again (one `Person`, ADR 0052) is
    protected by whichever of their referrals protects them, whichever reference is given:
    enforcement often holds the first, refused one while the second awaits its decision."""
    case = case_by_reference(reference)
    if case is None:
        return None
    others = Case.objects.filter(person_id=case.person_id).exclude(pk=case.pk)
    return first_protecting(case, others, on)


def first_protecting(case: Case, others: QuerySet[Case], on: date) -> Finding:
    """The case's finding if it protects; else the first of `others` (the same person's other
    referrals, or those confirmed linked to it) that does, newest first, with the case's own as
    its `checked`; else the case's own."""
    own = case_finding(case, on)
    if own.protection.protected:
        return own
    for other in others.select_related("person", "referred_by").order_by("-submitted_at", "-pk"):
        finding = case_finding(other, on)
        if finding.protection.protected:
            return replace(finding, checked=own)
    return own


_SOURCES: list[Source] = [nrm_source]


def register_source(source: Source) -> None:
    """Add a source of protection (once; call it from the app's `AppConfig.ready()`)."""
    if source not in _SOURCES:
        _SOURCES.append(source)


def protection_for_reference(reference: str, on: date) -> Finding:
    """The first source's finding that protects the reference on `on`; else the first that knows
    the reference (for the trail); else NOT_FOUND. Its answer is the same either way."""
    known: Finding | None = None
    for source in _SOURCES:
        finding = source(reference, on)
        if finding is None:
            continue
        if finding.protection.protected:
            return finding
        known = known or finding
    return known or NOT_FOUND


def enforcement_organisation(actor: Actor) -> Organisation:
    """The immigration enforcement organisation the actor checks and plans removals for (the
    token's own, for the API). 404 if none: the access table lets nobody else this far."""
    ids = actor.organisations_as([Role.IMMIGRATION_ENFORCEMENT])
    organisation = Organisation.objects.filter(pk__in=ids).order_by("name").first()
    if organisation is None:
        raise Http404
    return organisation


def planned_removal_key_used(user: User, key: str) -> bool:
    """Whether `user` already recorded a planned removal under the idempotency key `key` (the
    API asks before replaying a request refused only for its day, `api._retried`)."""
    return PlannedRemoval.objects.filter(recorded_by=user, submission_key=key).exists()
