"""The setup the tests of an operation's surge places and held beds share (ADR 0044): a
confidential operation with a provider invited, its surge places, beds held for it, a person to
place, and a coordinator at a provider nobody invited."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

import time_machine
from django.test import Client

from opennrm.accommodation.models import BedHold, Site
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.cases.models import Case
from opennrm.operations import services as operation_services
from opennrm.operations import surge
from opennrm.operations.models import Operation, SurgePlaces

from . import api_helpers as api
from . import case_factories, factories, operation_helpers


def invited_operation(by: User, lead: Organisation, provider: Organisation) -> Operation:
    """A confidential operation, 10 to 16 March 2027, planned before it starts, to which
    `provider` is invited as a support provider."""
    with time_machine.travel(operation_helpers.BEFORE, tick=False):
        made = operation_helpers.operation(by, lead, region="north_west")
        operation_services.operation_partner_invite(
            by=by, operation=made, organisation=provider, role="support_provider"
        )
    return made


def uninvited_coordinator() -> User:
    """A support coordinator at a provider nobody invited to the operation: not briefed."""
    other = factories.organisation("Uninvited Refuge", OrganisationKind.SUPPORT_PROVIDER)
    return factories.user("uma@example.org", organisation=other, role=Role.SUPPORT_COORDINATOR)


def person_maker(
    referred_by: User, referring_organisation: Organisation, authority: Organisation
) -> Callable[[], Case]:
    """Makes a case referred by `referred_by`, a new one each call."""

    def make() -> Case:
        return case_factories.case(
            referred_by=referred_by,
            referring_organisation=referring_organisation,
            authority=authority,
        )

    return make


def _invited_provider(operation: Operation) -> Organisation:
    return operation.partners.get().organisation


def add_surge(
    by: User, operation: Operation, site: Site, places: int = 2, **values: Any
) -> SurgePlaces:
    """Surge places at `site` from 10 to 20 March 2027, agreed before the operation starts by
    its one invited provider."""
    with time_machine.travel(operation_helpers.BEFORE, tick=False):
        return surge.surge_add(
            by=by,
            operation=operation,
            provider=_invited_provider(operation),
            site=site,
            places=places,
            starts_on=date(2027, 3, 10),
            ends_on=date(2027, 3, 20),
            **values,
        )


def hold(
    by: User, operation: Operation, site: Site, *, expires_at: datetime, count: int = 1
) -> list[BedHold]:
    """`count` free beds at `site` held for the operation by its one invited provider, now."""
    return surge.beds_hold(
        by=by,
        operation=operation,
        provider=_invited_provider(operation),
        site=site,
        count=count,
        expires_at=expires_at,
    )


def api_client(user: User, scopes: Iterable[str] = api.EVERY_SCOPE) -> Client:
    """An API client with a token of the user's one organisation."""
    _, secret = api.token(user, user.memberships.get().organisation, scopes=scopes)
    return api.client_with(secret)
