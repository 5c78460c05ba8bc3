"""Who is acting: a user, and the memberships through which they act right now.

Every selector and permission predicate that depends on who is asking takes an `Actor`, so
that record access is written once for pages and API alike. A signed-in session acts through
all of the user's memberships in force; an API token acts for one member of one organisation,
so through that member's memberships *in the token's organisation* only: the member's roles
elsewhere never come with a token. That narrowing happens here and nowhere else.

"In force" is one definition, `memberships_in_force`: an active membership of an active user in
an active organisation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from django.db.models import QuerySet
from django.http import HttpRequest

from .models import Membership, User
from .roles import Role

# Those who make reasonable- and conclusive-grounds decisions for a competent authority.
DECIDERS: frozenset[Role] = frozenset({Role.DECISION_MAKER, Role.SENIOR_DECISION_MAKER})


def memberships_in_force() -> QuerySet[Membership]:
    """Every membership that gives its holder a role now."""
    return Membership.objects.filter(
        is_active=True, user__is_active=True, organisation__is_active=True
    )


def members_with_role(organisation_id: int | None, roles: Iterable[Role]) -> QuerySet[Membership]:
    """The memberships in force with one of `roles`: in one organisation, or (None) anywhere."""
    found = memberships_in_force().filter(role__in=list(roles))
    if organisation_id is not None:
        found = found.filter(organisation_id=organisation_id)
    return found


def role_givers(organisation_id: int) -> list[User]:
    """Who can give someone a role in the organisation: its administrators, else the system
    administrators (who can in any organisation). Told, by a stand-in, that news waits for
    someone with a role nobody there holds now (ADR 8)."""
    administrators = members_with_role(organisation_id, {Role.ORGANISATION_ADMIN})
    if not administrators.exists():
        administrators = members_with_role(None, {Role.SYSTEM_ADMIN})
    return [m.user for m in administrators.select_related("user")]


@dataclass(frozen=True, eq=False)
class Actor:
    user: User
    # Set for an API token: the organisation it belongs to, the only one it acts in.
    token_organisation_id: int | None = None

    @classmethod
    def of_session(cls, user: User) -> Actor:
        return cls(user)

    def memberships(self) -> QuerySet[Membership]:
        """The memberships through which this actor acts, with their organisations."""
        if not self.user.is_authenticated or not self.user.is_active:
            return Membership.objects.none()
        found = memberships_in_force().filter(user=self.user)
        if self.token_organisation_id is not None:
            found = found.filter(organisation_id=self.token_organisation_id)
        return found.select_related("organisation")

    @cached_property
    def held(self) -> tuple[tuple[int, Role], ...]:
        """(organisation id, role) of each membership, read once: an actor lives for one
        request (or one task), and a page asks this of it several times."""
        return tuple(
            (organisation_id, Role(role))
            for organisation_id, role in self.memberships().values_list("organisation_id", "role")
        )

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(role for _, role in self.held)

    def organisation_ids_as(self, roles: Iterable[Role]) -> list[int]:
        """The ids of the organisations in which the actor holds one of `roles` (a list, read
        once per actor; `organisations_as` is the same as a subquery)."""
        wanted = frozenset(roles)
        return sorted({organisation_id for organisation_id, role in self.held if role in wanted})

    def has_any_role(self, roles: Iterable[Role]) -> bool:
        return not self.roles.isdisjoint(roles)

    def organisations_as(self, roles: Iterable[Role]) -> QuerySet[Membership, int]:
        """The ids of the organisations in which the actor holds one of `roles` (a subquery)."""
        return (
            self.memberships()
            .filter(role__in=list(roles))
            .values_list("organisation_id", flat=True)
        )


def actor_of(request: HttpRequest) -> Actor:
    """The actor of this request: set by the API's token check, else the signed-in user's."""
    actor: Actor | None = getattr(request, "actor", None)
    if actor is None:
        actor = Actor.of_session(request.user)  # type: ignore[arg-type]
        request.actor = actor  # type: ignore[attr-defined]
    return actor
