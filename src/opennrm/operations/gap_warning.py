"""Warning of a shortfall of places (issue 14, item 2): whenever an operation's plan or the places
agreed for it change (planned, changed; surge places added or ended, beds held or released), the
forecast's gap (ADR 0041) is worked out again. When some kind of place is short, and the
shortfall is not the one last warned of, the lead's planners (a police force's first responders,
a competent authority's senior decision makers: the planner among them) and the coordinators of
the support providers invited to the operation are told. Nobody outside the operation is: a
shortfall tells of the operation, which may be secret (ADR 0039).

Each morning too (`gap_check`, scheduled by `manage.py schedule`): places fill, beds go out of
service and the history grows without any write to the operation, so a shortfall can open with
nobody saving anything. The morning check works out every open operation's gap again, under the
same rules, and records one audit event for each operation whose shortfall it warned of.

Not on every save: the shortfall last warned of is kept on the operation (`gap_warned`), and a
save that leaves it as it was tells nobody; one that closes it tells nobody either, but a later
shortfall is warned of again. A support provider invited while a shortfall stands is told of it
at once (its coordinators only).

A message is e-mailed, so for an operation still secret it names no operation (as the invitation
does): only the figures, and where to look once signed in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.actor import members_with_role
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.services import audit_record
from opennrm.notifications.services import Delivery, deliver_all

# Read when called, never at import: selectors -> surge -> gap_warning -> selectors is a cycle.
from . import selectors
from .forecast import NoStays
from .history import OperationForecast
from .models import Operation, OperationStatus, PartnerRole

logger = logging.getLogger(__name__)

# A shortfall matters only while the operation can still use places.
OPEN = (OperationStatus.PLANNED, OperationStatus.UNDER_WAY)


def shortfall_of(made: OperationForecast) -> dict[str, int]:
    """Each kind of place short at the worst day, and by how many; the kinds not short left out."""
    return {gap.kind: gap.short for gap in made.gaps if gap.short > 0}


def _lines(made: OperationForecast) -> list[str]:
    """'needs 43 women's places, 8 free, 10 surge places agreed: 25 short', one per kind short,
    and the adults' shortfall in all when more than one adult kind is short (the kinds' own
    figures each count the free mixed beds, so they must not be added up)."""
    lines = [gap.sentence for gap in made.gaps if gap.short > 0]
    if len(lines) > 1:
        lines.append(made.adults.sentence)
    return lines


# Who is told, with the organisation they are told for.
Told = tuple[Organisation, list[User]]


def _lead_planners(operation: Operation) -> list[User]:
    kind = OrganisationKind(operation.lead_organisation.kind)
    roles = selectors.PLANNING_ROLES.get(kind, frozenset())
    return [
        m.user
        for m in members_with_role(operation.lead_organisation_id, roles).select_related("user")
    ]


def _coordinators(providers: list[Organisation]) -> list[Told]:
    """Each provider's support coordinators, the provider with them."""
    by_provider: dict[int, list[User]] = {provider.pk: [] for provider in providers}
    for m in (
        members_with_role(None, {Role.SUPPORT_COORDINATOR})
        .filter(organisation_id__in=by_provider)
        .select_related("user")
    ):
        by_provider[m.organisation_id].append(m.user)
    return [(provider, by_provider[provider.pk]) for provider in providers]


def _invited_providers(operation: Operation) -> list[Organisation]:
    return [
        partner.organisation
        for partner in operation.partners.filter(role=PartnerRole.SUPPORT_PROVIDER)
        .select_related("organisation")
        .order_by("pk")
    ]


def _tell(operation: Operation, made: OperationForecast, audiences: list[Told]) -> int:
    """Warn each organisation's people in a delivery of its own, carrying the organisation
    (ADR 0008): the operation's news is theirs only while they work there, so the worker
    e-mails a coordinator who has left an invited provider for one never invited nothing."""
    lines = _lines(made)
    if selectors.operation_is_secret(operation):
        subject = "A confidential operation is short of places"
        body = (
            "\n".join(f"A confidential operation: {line}" for line in lines)
            + "\n\nSign in to OpenNRM and open Operations to see which. It is confidential until "
            "it starts: do not forward this message."
        )
    else:
        subject = f"{operation.name}: short of places"
        body = "\n".join(f"{operation.name}: {line}" for line in lines)
    url = reverse("operations:detail", args=[operation.pk])
    told: set[int] = set()
    deliveries: list[Delivery] = []
    for organisation, people in audiences:
        # One warning each, as before: someone in two of these organisations (the lead's and
        # a provider's) hears it for the first.
        recipients = [user for user in people if user.pk not in told]
        told |= {user.pk for user in recipients}
        deliveries.append(
            Delivery(
                recipients,
                "operations.short_of_places",
                subject,
                body,
                url=url,
                organisation=organisation,
            )
        )
    return sum(len(sent) for sent in deliver_all(deliveries))


def told_of_shortfall(told: int) -> dict[str, int]:
    """For the caller's audit event: how many were warned of a shortfall of places, if any."""
    return {"told_of_shortfall": told} if told else {}


@transaction.atomic
def gap_warn(operation: Operation, *, newly_invited: Organisation | None = None) -> int:
    """Work the operation's gap out again and warn of a new or changed shortfall; how many were
    told. `newly_invited`: a support provider just invited, told of a shortfall that stands.
    Called by the services that change the plan or the places agreed, inside their transaction
    and before their audit event (which records how many were told)."""
    locked = (
        Operation.objects.select_for_update()
        .select_related("lead_organisation")
        .get(pk=operation.pk)
    )
    if locked.status_on(timezone.localdate()) not in OPEN:
        return 0
    try:
        made = selectors.operation_bed_forecast(locked)
    except NoStays:
        return 0  # no history to forecast from: nothing is known to be short
    if made is None:
        return 0
    short = shortfall_of(made)
    if short == locked.gap_warned:
        if not short or newly_invited is None:
            return 0
        return _tell(locked, made, _coordinators([newly_invited]))
    locked.gap_warned = short
    locked.save(update_fields=["gap_warned"])
    if not short:
        return 0
    lead = (locked.lead_organisation, _lead_planners(locked))
    return _tell(locked, made, [lead, *_coordinators(_invited_providers(locked))])


@dataclass(frozen=True)
class GapCheck:
    operations_checked: int
    operations_warned: int
    people_told: int
    # Operations whose check raised (logged, rolled back): counted among those checked.
    operations_failed: int = 0


def gap_check(today: date) -> GapCheck:
    """The morning check: every operation planned or under way today has its gap worked out
    again and a new or changed shortfall warned of, as a write would (`gap_warn`). One audit
    event, by the system, for each operation whose shortfall was warned of; none for the
    others (the check itself reads no person). Each operation in its own transaction, so one
    that fails is rolled back, logged and counted in `operations_failed`, and the others are
    still checked."""
    checked = warned = told = failed = 0
    candidates = Operation.objects.filter(
        cancelled_at__isnull=True, ends_on__gte=today
    ).select_related("lead_organisation")
    for operation in candidates.order_by("starts_on", "pk"):
        if operation.status_on(today) not in OPEN:
            continue
        checked += 1
        try:
            with transaction.atomic():
                sent = gap_warn(operation)
                if sent:
                    operation.refresh_from_db(fields=["gap_warned"])
                    audit_record(
                        by=None,
                        action="operations.shortfall_warned",
                        obj=operation,
                        organisation=operation.lead_organisation,
                        detail={"told_of_shortfall": sent, "short": operation.gap_warned},
                    )
        except Exception:
            # Any failure (the forecast, the mailer) must not leave the operations after it
            # unchecked and their planners unwarned. The number only: a name may be secret.
            logger.exception("The shortfall check failed for operation %s", operation.pk)
            failed += 1
            continue
        if sent:
            warned += 1
            told += sent
    return GapCheck(checked, warned, told, failed)
