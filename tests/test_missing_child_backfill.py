"""Care migration 0003 backfills `MissingEpisode.child_missing` for episodes reported before the
field existed."""

from __future__ import annotations

import importlib
from datetime import timedelta

from django.apps import apps as django_apps
from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.care import selectors as care_selectors
from opennrm.care import services as care
from opennrm.care.models import ChildMissing, MissingEpisode
from opennrm.cases.choices import AgeGroup
from opennrm.cases.models import Case, Person
from opennrm.safeguarding import coming_of_age
from opennrm.safeguarding.coming_of_age import years_later

from . import case_factories


def test_a_child_who_turned_18_while_missing_before_the_upgrade_is_backfilled_as_a_child(
    alice: User, lena: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    """Lena, the council's safeguarding lead, reported a 17-year-old missing before the upgrade;
    the young person turned 18 while still missing (the daily task moved the case to the adult
    pathway), still before the upgrade. The old code wrote "support.missing_safeguarding_told"
    on the timeline of every missing *child* too (`_safeguarding_event`), so migration
    `care.0003_missing_episode_child_missing.as_reported`, seeing an adult case now with that
    event, backfills the episode as `WITH_THEM` ("a parent missing with a dependent child").
    Result: the council loses the episode (`missing_episodes_visible_to` and its caseload look
    for `PERSON`), and the return is announced as "the parent missing with a dependent child",
    exactly what the addendum (ADR 15, stop 36) set out to fix. Expected: `PERSON`, the episode
    still visible to the council."""
    today = timezone.localdate()
    case = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        age_group=AgeGroup.CHILD,
        date_of_birth=years_later(today, -18),
        submitted_at=timezone.now() - timedelta(days=200),
    )
    Person.objects.filter(pk=case.person_id).update(age_at_referral=17, age_is_estimated=False)
    episode = care.missing_report(
        by=lena, case=case, went_missing_on=today - timedelta(days=3), last_seen="Left at night"
    )
    assert coming_of_age.run(today).turned_18 == 1
    assert Case.objects.get(pk=case.pk).age_group == AgeGroup.ADULT
    # As it was before the field existed.
    MissingEpisode.objects.filter(pk=episode.pk).update(child_missing=ChildMissing.NO)

    migration = importlib.import_module(
        "opennrm.care.migrations.0003_missing_episode_child_missing"
    )
    migration.as_reported(django_apps, None)

    backfilled = MissingEpisode.objects.get(pk=episode.pk)
    assert backfilled.child_missing == ChildMissing.PERSON, (
        f"backfilled as {backfilled.child_missing!r}: a missing child read back as a parent "
        "missing with a dependent child"
    )
    assert (
        care_selectors.missing_episodes_visible_to(Actor.of_session(lena))
        .filter(pk=episode.pk)
        .exists()
    )
