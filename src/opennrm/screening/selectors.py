"""Reads about screening that depend on who is asking. Views never query these models directly."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation
from opennrm.accounts.roles import Role

from .models import IndicatorCatalogue, Screening

# The roles that screen people, and so see their own organisation's screenings.
SCREENING_ROLES = frozenset({Role.FIRST_RESPONDER, Role.SAFEGUARDING_LEAD})


class NoActiveCatalogue(IndicatorCatalogue.DoesNotExist):
    pass


def active_catalogue() -> IndicatorCatalogue:
    """The catalogue new screenings use. A migration loads the bundled one, so there always is
    one unless the table was emptied (for example by a test that flushes the database).

    Without its document: `parsed()` has it parsed already in all but a process's first call
    (which loads it then), and reading it with the row took 2 ms, twice in every submission."""
    found = IndicatorCatalogue.objects.filter(is_active=True).defer("data").first()
    if found is None:
        raise NoActiveCatalogue(
            "No indicator catalogue is active: run the migrations, or load one with "
            "`manage.py load_indicator_catalogue`"
        )
    return found


def screening_organisations_of(actor: Actor) -> QuerySet[Organisation]:
    """The organisations for which `actor` screens people (through a screening role)."""
    return Organisation.objects.filter(pk__in=actor.organisations_as(SCREENING_ROLES)).order_by(
        "name"
    )


def screenings_visible_to(actor: Actor) -> QuerySet[Screening]:
    """Screenings made by the actor's organisations, for members in a screening role; else none.

    Organisation scope, not "my own": colleagues pick up each other's work.
    """
    return Screening.objects.filter(
        organisation__in=screening_organisations_of(actor)
    ).select_related("created_by", "organisation", "catalogue")


def screening_get_for_user(actor: Actor, screening_id: int) -> Screening:
    """One screening the actor may see; 404 whether it is missing or not theirs to see."""
    try:
        return screenings_visible_to(actor).get(pk=screening_id)
    except Screening.DoesNotExist:
        raise Http404 from None


def screening_referred(screening: Screening, *, counting_drafts: bool = True) -> bool:
    """Whether the person screened has been referred from it: a case records it, or (unless
    `counting_drafts` is False) a referral draft was started from it, being written or
    submitted (`referrals.ReferralDraft.source_screening`; a duty to notify report keeps no
    link). One screening is one person: it starts one referral."""
    if hasattr(screening, "case"):
        return True
    return counting_drafts and screening.referral_drafts.exists()
