"""Found in review of stop 40's change: an adult who comes with the person needs room too."""

from __future__ import annotations

from opennrm.accommodation import services
from opennrm.accommodation.matching import Companion, Setting, check
from opennrm.accommodation.models import Placement, PlacementStatus
from opennrm.accounts.models import Organisation, User
from opennrm.cases.models import Case
from opennrm.safety import services as safety

from . import support_factories as s
from .test_matching import TODAY
from .test_matching import bed as a_bed
from .test_matching import request as a_request


def test_a_bed_for_one_is_not_offered_to_a_woman_and_the_adult_partner_who_lives_with_her(
    alice: User, cora: User, maya: User, provider: Organisation, case: Case
) -> None:
    """Who is hurt: a woman whose safety profile records her partner, a 31-year-old man, who
    comes with her ("placed together or not at all", ADR 0026), and the house that receives
    them.

    What happens now: before today a dependant, any dependant, had to fit in the room
    (`Room.takes_dependants` >= `dependant_count`). Today `safety.selectors.constraints_of`
    counts only dependent *children* and `matching.Request.dependants` ignores adults, so the
    adult partner takes no room at all: matching proposes, and the coordinator can offer, a
    single bed in a room that takes nobody else, for two adults. The provider accepts a bed for
    one person and two arrive (or the couple is split at the door).

    What should happen: an adult who comes lives in the placement too and needs space there:
    count adult companions against the room (as before), or model a room's adult places; never
    propose a one-person bed for a couple."""
    safety.dependant_add(
        by=alice,
        case=case,
        expected_version=None,
        relationship="partner",
        sex="male",
        age_years=31,
    )
    request = s.request(case)
    mixed = s.site(maya, provider, setting="mixed")
    (single,) = s.beds(maya, mixed, 1, takes_dependants=0)

    outcome = services.matching_run(by=cora)
    proposed = list(Placement.objects.filter(request=request, status=PlacementStatus.PROPOSED))
    assert outcome.proposed == 0
    assert not proposed, (
        f"matching proposed bed {single.pk}, which takes nobody but the person, for her and her "
        "adult partner"
    )


def test_check_counts_an_adult_companion_against_the_room() -> None:
    """The pure rule: a woman with her adult partner, a mixed bed whose room takes no one
    else. Now `check` finds nothing wrong; the room has no space for the second adult."""
    couple = a_request(companions=(Companion("male", adult=True),))
    single = a_bed(setting=Setting.MIXED, takes_dependants=0)
    assert check(couple, single, today=TODAY) != [], (
        "a one-person bed passes every constraint for two adults"
    )
