"""Found in review of stop 40's change: an adult who comes now takes a place in the room, but
matching's account of why no bed was found still calls every companion a child."""

from __future__ import annotations

from datetime import date, timedelta

from opennrm.accommodation import matching
from opennrm.accommodation.matching import Bed, Companion, KeepAway, Request, Setting

TODAY = date(2026, 6, 1)
MANCHESTER = (53.48, -2.24)
NEAR_MANCHESTER = (53.55, -2.10)


def _bed(id: int, **fields: object) -> Bed:
    values: dict = {
        "id": id,
        "site_id": id,
        "provider_id": 1,
        "region": "North West",
        "area": "Manchester",
        "setting": Setting.WOMEN_ONLY,
        "location": NEAR_MANCHESTER,
        "languages": frozenset({"en"}),
        "available_from": TODAY,
    }
    values.update(fields)
    return Bed(**values)


def test_why_no_bed_does_not_say_a_child_comes_when_an_adult_sister_does() -> None:
    """Who is hurt: the coordinator looking for a bed (and the person, whose record and subject
    access export keep the reason why no place was found).

    Now: a woman whose adult sister comes with her has `dependants` 1 (the companion, since
    this change). Every bed with room for one is too near the place of exploitation, and the
    reason recorded is "every free women-only or mixed bed that takes 1 child is within 50 km
    ...": it says a child comes, when none does (`matching._phrases` words `request.dependants`
    with `_children`, while `_dependants_rule` was changed to say "1 adult").

    Should: the reason words who comes as `_with_them` does ("... that takes 1 adult ..." /
    "room for 1 more person"), never a child that does not exist."""
    sister = Companion("female", adult=True)
    woman = Request(
        id=1,
        accepted_settings=frozenset({Setting.WOMEN_ONLY, Setting.MIXED}),
        needed_from=TODAY,
        waiting_since=TODAY - timedelta(days=3),
        languages=frozenset({"en"}),
        companions=(sister,),
        keep_away=(KeepAway(MANCHESTER, 50),),
    )
    assert woman.dependants == 1
    beds = [_bed(1, takes_dependants=1), _bed(2, takes_dependants=2)]
    result = matching.match([woman], beds, TODAY)
    (left,) = result.unplaced
    assert left.code == "distance"
    assert "child" not in left.reason, left.reason
