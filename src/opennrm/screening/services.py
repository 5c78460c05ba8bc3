"""Every write about screening. Each runs in its own transaction and writes one audit event."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.audit.services import audit_record

from . import rules, selectors
from .catalogue import CatalogueError, parse
from .models import IndicatorCatalogue, Screening


@transaction.atomic
def catalogue_load(*, by: User | None, data: Any) -> IndicatorCatalogue:
    """Check a catalogue document, store it as a new version and make it the active one.

    `data` is the decoded JSON document. Every problem is raised at once as a ValidationError
    and nothing is written. Screenings already recorded keep pointing at the version they used.
    `by=None` is the command line.
    """
    try:
        catalogue = parse(data)
    except CatalogueError as error:
        raise ValidationError(error.problems) from None
    if IndicatorCatalogue.objects.filter(key=catalogue.key, version=catalogue.version).exists():
        raise ValidationError(
            f'Version "{catalogue.version}" of catalogue "{catalogue.key}" is already loaded. '
            "Give the new list a new version."
        )
    # Lock the active row so two loads at once cannot both leave theirs active.
    previous = list(IndicatorCatalogue.objects.select_for_update().filter(is_active=True))
    for row in previous:
        row.is_active = False
        row.save(update_fields=["is_active"])
    stored = IndicatorCatalogue.objects.create(
        key=catalogue.key,
        version=catalogue.version,
        title=catalogue.title,
        source=catalogue.source,
        data=data,
        is_active=True,
        loaded_at=timezone.now(),
        loaded_by=by,
    )
    audit_record(
        by=by,
        action="indicator_catalogue.loaded",
        obj=stored,
        detail={
            "key": catalogue.key,
            "version": catalogue.version,
            "indicators": catalogue.indicator_count,
            "replaced": [f"{row.key}@{row.version}" for row in previous],
        },
    )
    return stored


@transaction.atomic
def screening_record(
    *,
    by: User,
    organisation: Organisation,
    list_key: str,
    is_child: bool,
    observed_codes: Iterable[str],
    catalogue: IndicatorCatalogue | None = None,
) -> Screening:
    """Record a screening: the indicators `by` observed, and the rule's guidance on them.

    Uses the active catalogue unless `catalogue` names the version the checklist was shown
    from (a referral draft started before a new version was loaded). Raises ValidationError,
    keyed by argument name, for a list or code the catalogue does not have or an age group that
    does not match the list; PermissionDenied if `by` may not screen for `organisation`.
    """
    screening = screening_for_referral(
        by=by,
        organisation=organisation,
        list_key=list_key,
        is_child=is_child,
        observed_codes=observed_codes,
        catalogue=catalogue,
    )
    audit_record(
        by=by,
        action="screening.recorded",
        obj=screening,
        organisation=organisation,
        detail=screening_summary(screening),
    )
    return screening


def screening_summary(screening: Screening) -> dict[str, Any]:
    """What an audit event says of a screening: its list, catalogue, how many indicators were
    observed and whether they indicate trafficking (never which)."""
    catalogue = screening.catalogue
    return {
        "list_key": screening.list_key,
        "catalogue": f"{catalogue.key}@{catalogue.version}",
        "observed": len(screening.observed_codes),
        "indicated": screening.indicated,
    }


def screening_for_referral(
    *,
    by: User,
    organisation: Organisation,
    list_key: str,
    is_child: bool,
    observed_codes: Iterable[str],
    catalogue: IndicatorCatalogue | None = None,
    exploited_as_child: bool = False,
    started_from: Screening | None = None,
) -> Screening:
    """`screening_record` without its audit event or transaction (which that adds): for
    `referrals.services.referral_submit`, whose transaction it runs in and whose event
    (`referral.submitted`) records it with `screening_summary`. A savepoint and an event of
    its own were five of a submission's thirty statements, for nothing the submission's event
    cannot say.

    `exploited_as_child`: an adult who was a child when the exploitation began, screened with
    the adult's list by the child rule (`rules.evaluate`; ADR 0042). `started_from`: the
    stand-alone screening the referral was started from, returned instead of a new one when it
    records exactly what this one would (so the case links it, and it offers no second
    referral); a changed answer records a new one."""
    if (
        not selectors.screening_organisations_of(Actor.of_session(by))
        .filter(pk=organisation.pk)
        .exists()
    ):
        raise PermissionDenied("You cannot record screenings for this organisation")
    catalogue = catalogue or selectors.active_catalogue()
    indicator_list = catalogue.parsed().list(list_key)
    if indicator_list is None:
        raise ValidationError({"list_key": f'"{list_key}" is not a list in this catalogue'})
    if indicator_list.is_child != is_child:
        raise ValidationError(
            {"is_child": f"The {indicator_list.label.lower()} list does not fit this age group"}
        )
    codes = sorted(set(observed_codes))
    known = {i.code: i for i in indicator_list.indicators}
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise ValidationError(
            {
                "observed_codes": f"{', '.join(unknown)} "
                f"{'is not an indicator' if len(unknown) == 1 else 'are not indicators'} "
                f"in the {indicator_list.label.lower()} list"
            }
        )
    result = rules.evaluate(
        [known[code] for code in codes], is_child=is_child, exploited_as_child=exploited_as_child
    )
    if started_from is not None and _records_the_same(
        started_from, organisation, catalogue, indicator_list.key.value, is_child, codes, result
    ):
        return started_from
    screening = Screening.objects.create(
        created_by=by,
        organisation=organisation,
        catalogue=catalogue,
        list_key=indicator_list.key.value,
        is_child=is_child,
        observed_codes=codes,
        result=result.to_dict(),
        indicated=result.indicated,
    )
    return screening


def _records_the_same(
    screening: Screening,
    organisation: Organisation,
    catalogue: IndicatorCatalogue,
    list_key: str,
    is_child: bool,
    codes: list[str],
    result: rules.ScreeningResult,
) -> bool:
    """Whether `screening` says what a new one with these values would, and no case has it."""
    return (
        screening.organisation_id == organisation.pk
        and screening.catalogue_id == catalogue.pk
        and screening.list_key == list_key
        and screening.is_child == is_child
        and list(screening.observed_codes) == codes
        and screening.result == result.to_dict()
        and not selectors.screening_referred(screening, counting_drafts=False)
    )
