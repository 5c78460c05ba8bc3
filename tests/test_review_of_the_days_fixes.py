"""Review of today's changes on main (bea6c2a..HEAD): each test fails on a defect a fix
introduced. Synthetic data only."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from opennrm.accounts.models import Organisation, User
from opennrm.audit import services as audit_services
from opennrm.cases.models import Case
from opennrm.operations import history

from . import case_factories, factories
from . import support_factories as s

pytestmark = pytest.mark.django_db


def test_a_regions_history_still_counts_cases_in_multi_word_areas(
    maya: User,
    provider: Organisation,
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """`area_key` now joins words with hyphens ("north-tyneside"), but the history an
    operation's forecast reads compares a region's areas (`regions_of_areas`, keyed by
    `area_key`) with the case's area trimmed and lower-cased ("north tyneside"): a region's
    history now counts nobody from an area whose name has two words."""
    s.site(maya, provider, region="north_east", area="North Tyneside")
    case = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        area="North Tyneside",
    )
    among = history.among(region="north_east")
    assert list(among.applied(Case.objects.all()).values_list("pk", flat=True)) == [case.pk]


def test_paging_the_unfiltered_audit_trail_shows_no_event_twice(
    monkeypatch: pytest.MonkeyPatch, sysadmin: User
) -> None:
    """Each view of the audit search now writes an `audit.searched` event at the top of the
    trail: paging the unfiltered trail, each page moves everything down by one, so the last
    event of page 1 is shown again at the top of page 2 (and every refresh grows the trail)."""
    from opennrm.audit import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for n in range(4):
        audit_services.audit_record(by=None, action=f"test.review_{n}")
    client = factories.signed_in_client(sysadmin)

    def shown(number: int) -> set[str]:
        html = client.get(reverse("audit:search"), {"page": number}).content.decode()
        return {f"test.review_{n}" for n in range(4) if f"test.review_{n}" in html}

    first, second = shown(1), shown(2)
    assert first
    assert second
    assert not (first & second)


def test_a_hold_released_early_does_not_date_a_change_when_its_old_expiry_passes(
    alice: User, northmoor_police: Organisation, provider: Organisation, maya: User
) -> None:
    """`hsds._beds_by_site` dates a site's change by a hold's `expires_at` once it has passed,
    even for a hold released days before: nothing changes at that moment (the bed was free
    again since the release), yet the public export's `updated` moves to it, telling anyone
    polling it when the hold for the (confidential) operation was planned to run out."""
    import json
    from datetime import date, datetime, time

    import time_machine
    from django.utils import timezone

    from opennrm.accommodation import hsds, surge
    from opennrm.accommodation import services as accommodation_services

    from . import surge_helpers

    planned = surge_helpers.invited_operation(alice, northmoor_police, provider)
    with time_machine.travel("2027-02-20 10:00:00+00:00", tick=False):
        house = s.site(maya, provider, name="North House")
        service = accommodation_services.service_create(
            by=maya, provider=provider, name="Safe accommodation"
        )
        house.services.add(service)
        s.beds(maya, house, 3)
    with time_machine.travel("2027-03-01 10:00:00+00:00", tick=False):
        (held,) = surge_helpers.hold(
            maya,
            planned,
            house,
            expires_at=timezone.make_aware(datetime.combine(date(2027, 3, 17), time(12))),
        )
    with time_machine.travel("2027-03-02 10:00:00+00:00", tick=False):
        surge.bed_hold_release(held, by=maya, now=timezone.now())

    def capacity(at: str) -> dict[str, Any]:
        with time_machine.travel(at, tick=False):
            exported = json.loads(json.dumps(hsds.directory_export()))
        (entry,) = [e for e in exported["services"] if e["id"] == str(service.public_id)]
        (found,) = entry["capacities"]
        return {key: found[key] for key in ("available", "maximum", "updated")}

    assert capacity("2027-03-20 10:00:00+00:00") == capacity("2027-03-10 10:00:00+00:00")


def test_an_area_to_keep_away_from_is_named_to_the_coordinator_as_typed_not_hyphenated(
    maya: User, provider: Organisation, case: Case
) -> None:
    """The refusal a coordinator reads when a bed is in an area the person must keep away
    from names the area by its matching key: since `area_key` joins words with hyphens it
    reads "the bed is in north-tyneside" (before: "north tyneside"), a name nobody typed."""
    from django.utils import timezone

    from opennrm.accommodation import matching, selectors

    site = s.site(maya, provider, area="North Tyneside", setting="mixed")
    (bed,) = s.beds(maya, site)
    wanted = s.request(case, excluded_areas=["North Tyneside"])
    today = timezone.localdate()
    found = dict(
        matching.failures(
            selectors.matching_request(wanted, today),
            selectors.matching_bed(bed, today),
            today=today,
        )
    )
    said = found[matching.Constraint.EXCLUDED_AREA]
    assert "north-tyneside" not in said.lower()
    assert "north tyneside" in said.lower()


def test_unlinking_the_only_pair_between_two_groups_linked_through_different_erased_referrals_splits_them(
    alice: User,
    charlie: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
    authority: Organisation,
    dmitri: User,
    dpo: User,
) -> None:
    """A and B are linked through E1 (A-E1, E1-B confirmed), C and D through E2; E1 and E2 are
    erased, so A, B, C and D all have `linked_by` emptied. A decision maker then confirms B-C
    (the two clusters merge) and later unlinks it as a mistake. `_cluster_rebuild` now joins
    every member with an empty `linked_by` to every other, whichever erased referral linked
    them: A-B and C-D stay in one cluster, as if one person, though the only link between
    the two groups was the pair just undone."""
    from opennrm.accounts.actor import Actor
    from opennrm.linkage.models import ClusterMember, PairStatus
    from opennrm.linkage.services import candidate_pair_review, candidate_pair_unlink

    from .linkage_helpers import closed, pair_of
    from .test_linkage_review_gaps import _erase, _refer

    a = _refer(alice, northmoor_police, authority, "Arta")
    e1 = closed(_refer(charlie, southvale_police, authority, "Arta"))
    b = _refer(alice, northmoor_police, authority, "Arta")
    c = _refer(charlie, southvale_police, authority, "Brisa")
    e2 = closed(_refer(alice, northmoor_police, authority, "Brisa"))
    d = _refer(charlie, southvale_police, authority, "Brisa")
    actor = Actor(dmitri)
    for one, other in ((a, e1), (e1, b), (c, e2), (e2, d)):
        candidate_pair_review(by=actor, pair_id=pair_of(one, other).pk, status=PairStatus.CONFIRMED)
    _erase(dpo, e1, "DP-REVIEW-1")
    _erase(dpo, e2, "DP-REVIEW-2")
    clusters = dict(ClusterMember.objects.values_list("case_id", "cluster_id"))
    assert clusters[a.pk] == clusters[b.pk] != clusters[c.pk] == clusters[d.pk]

    b_c = candidate_pair_review(by=actor, pair_id=pair_of(b, c).pk, status=PairStatus.CONFIRMED)
    candidate_pair_unlink(by=actor, pair_id=b_c.pk, reason="mistake")

    clusters = dict(ClusterMember.objects.values_list("case_id", "cluster_id"))
    assert clusters[a.pk] == clusters[b.pk]
    assert clusters[c.pk] == clusters[d.pk]
    assert clusters[b.pk] != clusters[c.pk], "unlinking B-C left A-B and C-D linked as one person"
