"""Gaps a security and privacy review of record linkage (ADRs 0048-0054) found, and their
fixes (ADR 0052, addendum of 2026-12-05): a linkage run or the check at submission storing a
pair scored from a person's erased values; an unlink after an erasure dropping links ADR 0052
keeps; "not the same person" recorded for two referrals other confirmed pairs link; the subject
access export leaving out a referral's links. And, from a later review (ADR 0052 and 0054,
addenda of stop 36): an erased referral's case id kept in the links of those linked through it,
a protection check answered through a link missing from the checked reference's reads page, and
a referral written without a family name never compared by name. Synthetic people only."""

from __future__ import annotations

import copy
import importlib
import re
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Membership, Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.linkage import engine, scoring, selectors, services, synthetic
from opennrm.linkage.models import (
    CandidatePair,
    ClusterMember,
    IdentityCluster,
    LinkageModel,
    PairStatus,
)
from opennrm.linkage.prepare import RawRecord, prepare
from opennrm.linkage.services import (
    LINKED_ALREADY,
    candidate_pair_review,
    candidate_pair_unlink,
)
from opennrm.privacy import services as privacy
from opennrm.privacy.selectors import person_reads_get
from opennrm.protection.services import protection_check

from . import case_factories, factories
from .linkage_helpers import (
    closed,
    frequencies_in,
    pair_of,
    settings_before_stop44,
    trained_before_stop44,
)


def _refer(user: User, organisation: Organisation, authority: Organisation, name: str) -> Case:
    return case_factories.case(
        referred_by=user,
        referring_organisation=organisation,
        authority=authority,
        given_names=name,
        family_name="Testperson",
    )


def _erase(dpo: User, case: Case, ref: str) -> None:
    # An erasure waits while a referral confirmed as the same person is open (ADR 0052, stop
    # 36): the others are closed first (closed cases can still be unlinked).
    for other in Case.objects.exclude(person=case.person).filter(closed_at__isnull=True):
        closed(other)
    factories.person_erased(
        case.person,
        recorded_by=dpo,
        request_reference=ref,
        request_received_on=timezone.localdate(),
    )


# --- Erasure is not durable against a linkage run in progress -----------------------------


def test_an_erasure_while_a_run_scores_leaves_no_pair_naming_the_erased_referral(
    alice: User,
    charlie: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
    authority: Organisation,
    dmitri: User,
    dpo: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`linkage_run` decrypts every identity first, scores for minutes at national scale
    (ADR 0051), then stores the pairs. A person erased in between (on request or by the
    nightly retention run) gets a new pair naming their erased referral, its comparison levels
    and fingerprint computed from the erased values: exactly what
    `linkage_records_pseudonymise` deletes. Confirming it puts the erased referral back in an
    identity cluster with the other organisation's referral."""
    police = _refer(alice, northmoor_police, authority, "Mirela")
    charity = closed(_refer(charlie, southvale_police, authority, "Mirela"))
    LinkageModel.objects.create(
        version=1,
        splink_version=engine.SPLINK_VERSION,
        splink_settings={},
        threshold_match_probability=0.8,
        trained_on_records=360,
        trained_at=timezone.now(),
    )
    low, high = sorted((police.pk, charity.pk))

    def scoring_while_the_dpo_erases(records: Any, *args: Any, **kwargs: Any) -> engine.Result:
        # The run has read and prepared both records; meanwhile the person is erased.
        assert {r.unique_id for r in records} == {police.pk, charity.pk}
        _erase(dpo, charity, "DP-RACE-1")
        return engine.Result(
            model={},
            candidate_pairs=1,
            pairs=[
                engine.ScoredPair(
                    first=low,
                    second=high,
                    match_weight=10.0,
                    match_probability=0.999,
                    comparisons=[],
                )
            ],
        )

    monkeypatch.setattr(engine, "score", scoring_while_the_dpo_erases)

    services.linkage_run(by=None)

    naming = CandidatePair.objects.filter(case_a_id=charity.pk) | CandidatePair.objects.filter(
        case_b_id=charity.pk
    )
    assert not naming.exists(), "a pair computed from erased values names the erased referral"
    assert not ClusterMember.objects.filter(case=charity).exists()
    # The run's one event says a pair was scored and left out, and nothing of whose.
    event = AuditEvent.objects.get(action="linkage.run")
    assert event.detail["pairs_above_threshold"] == 1
    assert event.detail["pairs_of_erased_referrals"] == 1
    assert event.detail["pairs_proposed"] == 0


# --- Unlinking after an erasure drops links ADR 0052 says stay ----------------------------


def test_unlinking_one_pair_after_an_erasure_keeps_the_other_referrals_linked(
    alice: User,
    charlie: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
    authority: Organisation,
    dmitri: User,
    dpo: User,
) -> None:
    """A-B, B-C and C-D confirmed; B's person is erased. ADR 0052: the other referrals "stay
    linked: a decision maker said they are one person", so A, C and D stay in one cluster
    with no pair behind A's membership. Unlinking C-D for a reason about C and D alone then
    rebuilds the cluster from confirmed pairs only (ADR 0049), finds none, and dissolves it:
    A's link to C (and with it the possible re-trafficking warning and the people count)
    silently goes, and no page can show or restore it."""
    a = _refer(alice, northmoor_police, authority, "Arta")
    b = closed(_refer(charlie, southvale_police, authority, "Arta"))
    c = _refer(alice, northmoor_police, authority, "Arta")
    d = _refer(charlie, southvale_police, authority, "Arta")
    actor = Actor(dmitri)
    for one, other in ((a, b), (b, c)):
        candidate_pair_review(by=actor, pair_id=pair_of(one, other).pk, status=PairStatus.CONFIRMED)
    c_d = candidate_pair_review(by=actor, pair_id=pair_of(c, d).pk, status=PairStatus.CONFIRMED)
    _erase(dpo, b, "DP-CHAIN-1")
    clusters = dict(ClusterMember.objects.values_list("case_id", "cluster_id"))
    assert clusters[a.pk] == clusters[c.pk] == clusters[d.pk]  # as ADR 0052 says

    candidate_pair_unlink(by=actor, pair_id=c_d.pk, reason="new_information")

    clusters = dict(ClusterMember.objects.values_list("case_id", "cluster_id"))
    assert a.pk in clusters, "A's link to C was dropped by an unrelated unlink"
    assert c.pk in clusters, "C's link to A was dropped by an unrelated unlink"
    assert clusters[a.pk] == clusters[c.pk]
    assert d.pk not in clusters


def test_after_an_erasure_a_referral_linked_to_the_erased_one_keeps_its_other_links(
    alice: User,
    charlie: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
    authority: Organisation,
    dmitri: User,
    dpo: User,
) -> None:
    """Linked in another order: A-B, then C-D (a cluster of their own), then B-C joins the two.
    C's membership was made by C-D, not by a pair naming B; it is linked to A through B all
    the same, so unlinking C-D still leaves A and C linked, and D alone."""
    a = _refer(alice, northmoor_police, authority, "Arta")
    b = closed(_refer(charlie, southvale_police, authority, "Arta"))
    c = _refer(alice, northmoor_police, authority, "Arta")
    d = _refer(charlie, southvale_police, authority, "Arta")
    actor = Actor(dmitri)
    candidate_pair_review(by=actor, pair_id=pair_of(a, b).pk, status=PairStatus.CONFIRMED)
    c_d = candidate_pair_review(by=actor, pair_id=pair_of(c, d).pk, status=PairStatus.CONFIRMED)
    candidate_pair_review(by=actor, pair_id=pair_of(b, c).pk, status=PairStatus.CONFIRMED)
    _erase(dpo, b, "DP-CHAIN-2")

    candidate_pair_unlink(by=actor, pair_id=c_d.pk, reason="new_information")

    clusters = dict(ClusterMember.objects.values_list("case_id", "cluster_id"))
    assert set(clusters) == {a.pk, c.pk}
    assert clusters[a.pk] == clusters[c.pk]


def test_unlinking_a_pair_whose_referrals_stay_linked_through_an_erased_one_says_so(
    alice: User,
    charlie: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
    authority: Organisation,
    dmitri: User,
    dpo: User,
) -> None:
    """B was confirmed as the same person as both C and D, and C-D too; B is erased. Unlinking
    C-D leaves C and D linked through B, as a decision maker said, and the page says so."""
    b = closed(_refer(charlie, southvale_police, authority, "Arta"))
    c = _refer(alice, northmoor_police, authority, "Arta")
    d = _refer(charlie, southvale_police, authority, "Arta")
    actor = Actor(dmitri)
    for one, other in ((b, c), (b, d)):
        candidate_pair_review(by=actor, pair_id=pair_of(one, other).pk, status=PairStatus.CONFIRMED)
    c_d = candidate_pair_review(by=actor, pair_id=pair_of(c, d).pk, status=PairStatus.CONFIRMED)
    _erase(dpo, b, "DP-CHAIN-3")

    client = factories.signed_in_client(dmitri)
    response = client.post(
        reverse("linkage:pair_unlink", args=[c_d.pk]), {"reason": "mistake"}, follow=True
    )

    assert response.status_code == 200
    assert "still linked through other referrals" in response.content.decode()
    clusters = dict(ClusterMember.objects.values_list("case_id", "cluster_id"))
    assert clusters[c.pk] == clusters[d.pk]
    c_d.refresh_from_db()
    assert c_d.status == PairStatus.UNLINKED


# --- A decision maker's "not the same person" can contradict the links -------------------


def test_an_open_pair_of_referrals_already_linked_through_others_cannot_be_rejected_silently(
    alice: User,
    charlie: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
    authority: Organisation,
    dmitri: User,
    sally: User,
) -> None:
    """A-C was proposed; then A-B and B-C were confirmed, so A and C are one person (one
    cluster). The A-C pair still waits in the queue (a run would count it "already linked"
    and leave it alone), and Sally answers "Not the same person": the answer is recorded
    while A and C stay linked and count as one person. Either the answer is refused (with a
    message saying they are linked already) or it must not leave the data contradicting it."""
    a = _refer(alice, northmoor_police, authority, "Besa")
    b = _refer(charlie, southvale_police, authority, "Besa")
    c = _refer(alice, northmoor_police, authority, "Besa")
    a_c = pair_of(a, c)
    actor = Actor(dmitri)
    for one, other in ((a, b), (b, c)):
        candidate_pair_review(by=actor, pair_id=pair_of(one, other).pk, status=PairStatus.CONFIRMED)

    with pytest.raises(ValidationError) as refused:
        candidate_pair_review(by=Actor(sally), pair_id=a_c.pk, status=PairStatus.REJECTED)
    assert refused.value.messages == [LINKED_ALREADY]
    assert "linked as the same person through other referrals" in LINKED_ALREADY
    assert "first unlink the pairs that link them" in LINKED_ALREADY

    a_c.refresh_from_db()
    clusters = dict(ClusterMember.objects.values_list("case_id", "cluster_id"))
    linked = clusters.get(a.pk) is not None and clusters.get(a.pk) == clusters.get(c.pk)
    assert not (a_c.status == PairStatus.REJECTED and linked), (
        "recorded as not the same person, yet still linked as one"
    )


def test_the_review_pages_say_a_pair_is_linked_through_others_and_refuse_not_the_same(
    alice: User,
    charlie: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
    authority: Organisation,
    dmitri: User,
    sally: User,
) -> None:
    a = _refer(alice, northmoor_police, authority, "Besa")
    b = _refer(charlie, southvale_police, authority, "Besa")
    c = _refer(alice, northmoor_police, authority, "Besa")
    a_c = pair_of(a, c)
    other = pair_of(
        _refer(alice, northmoor_police, authority, "Besa"),
        _refer(charlie, southvale_police, authority, "Besa"),
    )
    actor = Actor(dmitri)
    for one, another in ((a, b), (b, c)):
        candidate_pair_review(
            by=actor, pair_id=pair_of(one, another).pk, status=PairStatus.CONFIRMED
        )
    client = factories.signed_in_client(sally)

    # The queue marks the pair, and only it.
    queue = client.get(reverse("linkage:pairs")).content.decode()
    assert queue.count("Linked through other referrals") == 1
    # The pair's page says so before an answer is chosen.
    url = reverse("linkage:pair", args=[a_c.pk])
    page = client.get(url).content.decode()
    assert "already linked as the same person through other referrals" in page
    assert (
        "already linked"
        not in client.get(reverse("linkage:pair", args=[other.pk])).content.decode()
    )
    # "Not the same person" is refused with what to do; the pair stays open.
    response = client.post(url, {"answer": "rejected"})
    assert response.status_code == 200
    assert "first unlink the pairs that link them" in response.content.decode()
    a_c.refresh_from_db()
    assert a_c.status == PairStatus.PROPOSED
    # "Same person" records what the links already say.
    client.post(url, {"answer": "confirmed"})
    a_c.refresh_from_db()
    assert a_c.status == PairStatus.CONFIRMED
    assert len(set(ClusterMember.objects.values_list("cluster_id", flat=True))) == 1


# --- Subject access -----------------------------------------------------------------------


def test_the_subject_access_export_says_the_referral_is_linked_to_another(
    alice: User,
    charlie: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
    authority: Organisation,
    dmitri: User,
    dpo: User,
) -> None:
    """The export claims "Everything OpenNRM holds about this person", but a decision maker's
    confirmed link of this referral to another referral of the same person (an inference about
    them, processed and used for re-trafficking warnings and the people count) is left out:
    the data subject, and the DPO answering them, cannot learn of it (UK GDPR art. 15)."""
    later = _refer(alice, northmoor_police, authority, "Drita")
    earlier = _refer(charlie, southvale_police, authority, "Drita")
    candidate_pair_review(
        by=Actor(dmitri), pair_id=pair_of(earlier, later).pk, status=PairStatus.CONFIRMED
    )

    data = privacy.subject_access_export(
        by=dpo, person=later.person, request_reference="DPR-LINK-1"
    )

    assert earlier.reference in str(data), "the confirmed link is missing from the export"
    (case,) = data["cases"]
    assert case["linked_referrals"] == [
        {
            "reference": earlier.reference,
            "how": "Confirmed by a decision maker as the same person",
            "confirmed_at": case["linked_referrals"][0]["confirmed_at"],
        }
    ]
    assert case["linked_referrals"][0]["confirmed_at"]
    # Nothing else of the other referral's record (its organisation, say): only its reference.
    assert southvale_police.name not in str(data)


def test_the_subject_access_document_lists_links_direct_and_through_others(
    alice: User,
    charlie: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
    authority: Organisation,
    dmitri: User,
    dpo: User,
) -> None:
    first = _refer(charlie, southvale_police, authority, "Drita")
    second = _refer(alice, northmoor_police, authority, "Drita")
    third = closed(_refer(alice, northmoor_police, authority, "Drita"))
    actor = Actor(dmitri)
    for one, other in ((first, second), (second, third)):
        candidate_pair_review(by=actor, pair_id=pair_of(one, other).pk, status=PairStatus.CONFIRMED)
    rejected = _refer(alice, northmoor_police, authority, "Drita")
    candidate_pair_review(by=actor, pair_id=pair_of(third, rejected).pk, status=PairStatus.REJECTED)

    response = factories.signed_in_client(dpo).post(
        reverse("privacy:export", args=[third.person_id]),
        {"request_reference": "DPR-LINK-2", "format": "html"},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Linked referrals" in html
    assert f"Case {second.reference}: confirmed by a decision maker as the same person" in html
    assert f"Case {first.reference}: linked through other referrals" in html
    # A pair answered "not the same person" is no link, and names nobody.
    assert rejected.reference not in html

    # Once the person is erased, their referral is in no cluster and the export names no link.
    _erase(dpo, third, "DPR-LINK-3")
    data = privacy.subject_access_export(
        by=dpo, person=third.person, request_reference="DPR-LINK-4"
    )
    assert data["cases"][0]["linked_referrals"] == []


def test_unlinking_twice_goes_back_to_the_pair_saying_it_is_done(
    alice: User,
    charlie: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
    authority: Organisation,
    dmitri: User,
) -> None:
    """A second press of "Unlink" (double click, or the browser resending) after the first
    unlinked the pair goes back to the pair page with a message, as the review form does for a
    pair already answered, not to "Page not found"; an outsider still gets 404."""
    earlier = _refer(charlie, southvale_police, authority, "Yuliya")
    later = _refer(alice, northmoor_police, authority, "Julia")
    pair = pair_of(earlier, later)
    candidate_pair_review(by=Actor(dmitri), pair_id=pair.pk, status=PairStatus.CONFIRMED)
    client = factories.signed_in_client(dmitri)
    url = reverse("linkage:pair_unlink", args=[pair.pk])
    assert client.post(url, {"reason": "mistake"}).status_code == 302
    second = client.post(url, {"reason": "mistake"}, follow=True)
    assert second.redirect_chain == [(reverse("linkage:pair", args=[pair.pk]), 302)]
    assert "already been unlinked" in second.content.decode()
    assert factories.signed_in_client(charlie).post(url, {"reason": "mistake"}).status_code == 404


# --- Stop 36: what an erasure leaves in the links -------------------------------------------


def test_after_erasure_no_link_row_names_the_erased_referral(
    alice: User,
    charlie: User,
    dmitri: User,
    dpo: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
    authority: Organisation,
) -> None:
    """The DPO erases, on request, the person of Southvale's referral B, which a decision maker
    had confirmed is the same person as Northmoor's referrals A and C (A-B and B-C). A and C
    stay linked, as ADR 0052 says. But their `ClusterMember` rows now hold
    `linked_through_erased = B's case id`: the linkage tables still say, for anyone reading the
    database, that the pseudonymised referral B (its reference, organisation, dates, decisions
    and statistical fields remain) is the same person as A and C, whose names and dates of birth
    are there in A's and C's identities. ADR 0052 deletes the erased referral's memberships
    because "a link from an identified referral to the pseudonymised one would identify it
    again". The members should keep an opaque token for "linked through one erased referral"
    (new for each erasure), never the erased case's id."""
    a = _refer(alice, northmoor_police, authority, "Ana")
    b = closed(_refer(charlie, southvale_police, authority, "Anna"))
    c = _refer(alice, northmoor_police, authority, "Anne")
    for one, other in ((a, b), (b, c)):
        pair = pair_of(one, other)
        candidate_pair_review(by=Actor(dmitri), pair_id=pair.pk, status=PairStatus.CONFIRMED)

    _erase(dpo, b, "SAR-LINK-1")

    remaining = dict(ClusterMember.objects.values_list("case_id", "linked_through_erased"))
    assert set(remaining) == {a.pk, c.pk}  # still linked to one another, as ADR 0052 says
    assert b.pk not in remaining.values(), (
        "A's and C's links name the erased referral B's case id",
        remaining,
        b.pk,
    )
    # One token for the two, new for this erasure: they stay joined to one another.
    assert len(set(remaining.values())) == 1
    assert None not in remaining.values()
    assert 0 not in remaining.values()


def test_the_migration_replaces_each_erased_case_id_by_one_new_token(
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    """Links stored before the tokens kept the erased case's id: linkage migration 0005 gives
    each id a new random token, the members of one group keeping one token between them, no
    token being an id it replaced; 0 ("not known which") and empty stay as they were."""
    cases = [_refer(alice, northmoor_police, authority, f"Person{n}") for n in range(6)]
    cluster = IdentityCluster.objects.create(created_at=timezone.now())
    ids = [cases[0].pk, cases[0].pk, cases[1].pk, cases[1].pk, 0, None]
    for case, value in zip(cases, ids, strict=True):
        ClusterMember.objects.create(
            cluster=cluster, case=case, linked_at=timezone.now(), linked_through_erased=value
        )
    migration = importlib.import_module("opennrm.linkage.migrations.0005_erased_link_groups_opaque")

    migration.opaque_groups(django_apps, None)

    after = [ClusterMember.objects.get(case=case).linked_through_erased for case in cases]
    assert after[0] == after[1]
    assert after[2] == after[3]
    assert after[0] != after[2]
    assert after[4:] == [0, None]
    assert not {after[0], after[2]} & {cases[0].pk, cases[1].pk, 0, None}


# --- Stop 36: a protection check answered through a link ------------------------------------


def _linked_old_reference(
    case: Case, alice: User, dmitri: User, northmoor_police: Organisation, authority: Organisation
) -> Case:
    old = case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        status=CaseStatus.NEGATIVE_REASONABLE_GROUNDS,
    )
    pair = pair_of(old, case)
    candidate_pair_review(by=Actor(dmitri), pair_id=pair.pk, status=PairStatus.CONFIRMED)
    return old


def test_a_protection_check_answered_through_a_link_is_on_the_dpos_page_of_the_reference(
    case: Case,
    alice: User,
    dmitri: User,
    dpo: User,
    northmoor_police: Organisation,
    authority: Organisation,
    border_enforcement: Organisation,
) -> None:
    """An immigration enforcement officer checks reference OLD (refused at reasonable grounds).
    A decision maker had confirmed OLD is the same person as another referral awaiting its
    decision, so the answer is "protected", taken from that other referral (ADR 40 addendum,
    `linkage.protection.linked_source`). The check is recorded as a read of the *other*
    referral's person only, so the data-protection officer's "who looked at this person" page
    for OLD, the reference the officer gave, does not list it. Threat 35 promises every check
    is "a read event naming who checked which reference, listed on the data-protection
    officer's page". The page for the reference checked should list the check."""
    ivan = factories.user(
        "ivan@example.org", organisation=border_enforcement, role=Role.IMMIGRATION_ENFORCEMENT
    )
    old = _linked_old_reference(case, alice, dmitri, northmoor_police, authority)

    assert protection_check(by=ivan, reference=old.reference).protected

    reads = person_reads_get(Actor(dpo), old.reference)
    assert reads is not None
    checks = [
        event
        for event in reads.events
        if event.detail.get("protection_check", {}).get("reference") == old.reference
    ]
    assert checks, "the check of this reference is missing from its person's reads page"


def test_a_check_through_a_link_is_a_read_of_each_person_and_of_one_otherwise(
    case: Case,
    alice: User,
    dmitri: User,
    northmoor_police: Organisation,
    authority: Organisation,
    border_enforcement: Organisation,
) -> None:
    """The check through a link is one read event for each person, each naming the reference
    checked and its own record; a check answered by the referral itself stays one event."""
    ivan = factories.user(
        "ivan@example.org", organisation=border_enforcement, role=Role.IMMIGRATION_ENFORCEMENT
    )
    old = _linked_old_reference(case, alice, dmitri, northmoor_police, authority)
    checks = AuditEvent.objects.filter(actor=ivan, action="person.viewed")

    protection_check(by=ivan, reference=old.reference)
    linked = list(checks.order_by("pk").values_list("person_id", "object_id", "detail"))
    protection_check(by=ivan, reference=case.reference)

    assert [(person, obj) for person, obj, _ in linked] == [
        (old.person_id, str(old.pk)),
        (case.person_id, str(case.pk)),
    ]
    assert {d["protection_check"]["reference"] for _, _, d in linked} == {old.reference}
    assert checks.count() == 3


# --- Stop 36: a name written without a family name ------------------------------------------


def _record(record_id: int, given: str, family: str) -> RawRecord:
    return RawRecord(
        record_id=record_id,
        person_id=record_id,
        given_names=given,
        family_name=family,
        date_of_birth=date(1996, 4, 9),
        age_at_referral=29,
        age_is_estimated=False,
        sex="female",
        nationalities=["ER"],
        area="Northmoor",
    )


def test_a_name_given_without_a_family_name_is_still_compared() -> None:
    """The referral form asks for "Given names, or the name they use" and makes the family name
    optional. A police officer refers "Amina Tesfay" typed in the given names box; a charity
    refers her as given "Amina", family "Tesfay"; a third referral has only "Amina" (she gave
    one name). The model's name comparison (`engine._name_comparison`, mirrored by
    `scoring._name`) takes its null level when *either* name is missing, so every one of these
    pairs scores as "Not given in one or both referrals" (gamma -1, weight 0): the names are
    never compared, the pair page tells the decision maker no name was given, and the levels
    ADR 0048 lists ("swapped or reordered", "given name alike only") are never reached. Only
    when no name at all was given should the name count as missing."""
    whole_in_given = prepare(_record(1, "Amina Tesfay", ""))
    split = prepare(_record(2, "Amina", "Tesfay"))
    one_name = prepare(_record(3, "Amina", ""))
    also_one_name = prepare(_record(4, "Amina", ""))

    # Models stored from stop 36 to stop 44 (both names one comparison), and models now.
    before = scoring.NAME_MISSING_GIVEN
    levels = {
        "whole name in given names / given and family": [
            scoring.levels(whole_in_given, split, name_missing=before)["name"],
            scoring.levels(whole_in_given, split)["given_name"],
        ],
        "one name / the same one name": [
            scoring.levels(one_name, also_one_name, name_missing=before)["name"],
            scoring.levels(one_name, also_one_name)["given_name"],
        ],
    }

    assert all(0 not in found for found in levels.values()), (
        "compared as if no name had been given",
        levels,
    )


def test_a_model_stored_before_scores_as_it_did_and_a_new_one_compares_single_names() -> None:
    """ADR 0054: a stored model carries its own SQL, and the Python scorer must score it as the
    engine does. A model stored before stop 36 takes its name "not given" level when either
    name is missing: the engine and the scorer both still do, for that model; a model stored
    from stop 36 to stop 44 (both names one comparison, `trained_before_stop44`)
    compares a name given without a family name, in both alike."""
    truth = synthetic.people(200, duplicates=40, seed=7)
    single = [
        replace(
            raw,
            record_id=10_000 + n,
            person_id=10_000 + n,
            given_names=f"{raw.given_names} {raw.family_name}" if n % 2 else raw.given_names,
            family_name="",
        )
        for n, raw in enumerate(truth.records[:40])
    ]
    records = [prepare(raw) for raw in [*truth.records, *single]]
    by_id = {record.unique_id: record for record in records}
    frequency = frequencies_in(records)
    new = trained_before_stop44(records)
    stored_before = copy.deepcopy(new)
    stored_before["comparisons"][0]["comparison_levels"][0]["sql_condition"] = (
        '("given_name_l" IS NULL OR "given_name_r" IS NULL) OR '
        '("family_name_l" IS NULL OR "family_name_r" IS NULL)'
    )
    assert engine.name_missing(new) == scoring.NAME_MISSING_GIVEN
    assert engine.name_missing(stored_before) == scoring.NAME_MISSING_EITHER

    name_levels: dict[str, list[int]] = {}
    for label, model in (("new", new), ("stored before", stored_before)):
        weights = engine.level_weights(model)
        scored = engine.score(records, model, threshold=0.0).pairs
        for pair in scored:
            weight, probability, rows = scoring.score(
                weights, by_id[pair.first], by_id[pair.second], frequency
            )
            assert [row["gamma"] for row in rows] == [c["gamma"] for c in pair.comparisons]
            assert weight == pytest.approx(pair.match_weight, abs=1e-9)
            assert probability == pytest.approx(pair.match_probability, abs=1e-9)
        name_levels[label] = [
            pair.comparisons[0]["gamma"] for pair in scored if pair.second >= 10_000
        ]
    assert name_levels["stored before"]
    assert set(name_levels["stored before"]) == {-1}
    assert any(gamma != -1 for gamma in name_levels["new"])


def test_the_scorer_refuses_a_model_whose_name_levels_it_does_not_know() -> None:
    """A model whose "no name to compare" level is neither version the scorer knows (from
    another version of the code) is refused, never scored otherwise than the engine would."""
    model = settings_before_stop44().get_settings("duckdb").as_dict()
    model["comparisons"][0]["comparison_levels"][0]["sql_condition"] = '"full_name_l" IS NULL'
    weights = engine.level_weights(model)
    record = prepare(_record(1, "Amina", "Tesfay"))

    with pytest.raises(scoring.UnknownLevels):
        scoring.score(weights, record, record)


# --- Stop 37: a rejection undone, links through another authority, undone links and erasure ---


def _main(html: str) -> str:
    """The page's main content (the header's sign-out form left out)."""
    start = html.find("<main")
    end = html.find("</main>")
    return html[start:end] if start != -1 else html


@pytest.fixture
def yuliya_earlier(charlie: User, southvale_police: Organisation, authority: Organisation) -> Case:
    return case_factories.case(
        referred_by=charlie,
        referring_organisation=southvale_police,
        authority=authority,
        status=CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS,
        given_names="Yuliya",
        family_name="Ivanova",
        date_of_birth=date(1999, 7, 3),
        submitted_at=timezone.now() - timedelta(days=400),
    )


@pytest.fixture
def julia_later(alice: User, northmoor_police: Organisation, authority: Organisation) -> Case:
    return case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        given_names="Julia",
        family_name="Ivanova",
        date_of_birth=date(1999, 3, 7),
    )


def test_a_not_the_same_person_answer_given_by_mistake_can_be_changed(
    yuliya_earlier: Case, julia_later: Case, dmitri: User
) -> None:
    """Harmed: the person referred twice (and the decision maker). A decision maker who picks
    "Not the same person" by mistake has no way back: the rejected pair's page offers no form
    or link to change the answer, a new answer posted is refused, and later runs never propose
    the pair again. The person loses the re-trafficking warning and the protection from
    removal that the link to their recognised earlier referral would give.

    Cause: `linkage/views.pair` and `services.candidate_pair_review` accept answers only for
    OPEN_STATUSES; only CONFIRMED has an undo (`candidate_pair_unlink`). Fix: let the
    authority's decision makers reopen (or re-answer) a rejected pair, audited, with the
    rejection kept in the history."""
    earlier, later = yuliya_earlier, julia_later
    pair = pair_of(earlier, later)
    client = factories.signed_in_client(dmitri)
    url = reverse("linkage:pair", args=[pair.pk])
    response = client.post(url, {"answer": PairStatus.REJECTED})
    assert response.status_code == 302
    pair.refresh_from_db()
    assert pair.status == PairStatus.REJECTED

    # The mistake is noticed at once. The page must offer some way to change the answer...
    main = _main(client.get(url).content.decode())
    offers_change = re.search(r"<form[^>]*method=\"post\"", main) or re.search(
        rf'href="/linkage/pairs/{pair.pk}/[^"]+"', main
    )
    # ...or, at least, posting the right answer must be taken.
    client.post(url, {"answer": PairStatus.CONFIRMED})
    pair = CandidatePair.objects.get(pk=pair.pk)
    assert offers_change or selectors.cases_linked(earlier.pk, later.pk), (
        "A rejected pair can never be re-answered: the decision maker cannot undo "
        f"'Not the same person' (status now {pair.status})"
    )


@pytest.mark.page("linkage:pair_reopen")
def test_a_decision_maker_reopens_a_rejected_pair_for_a_reason_and_answers_it_again(
    yuliya_earlier: Case,
    julia_later: Case,
    dmitri: User,
    sally: User,
    alice: User,
    detention_unit: Organisation,
) -> None:
    """The fix: "Change this answer" on a rejected pair asks why (a coded reason, as an
    unlink does), opens the pair again with the rejection kept on it and in the audit trail,
    and the pair can then be answered "Same person"."""
    pair = pair_of(yuliya_earlier, julia_later)
    candidate_pair_review(by=Actor(dmitri), pair_id=pair.pk, status=PairStatus.REJECTED)
    pair_url = reverse("linkage:pair", args=[pair.pk])
    url = reverse("linkage:pair_reopen", args=[pair.pk])
    other_authority_dm = factories.user(
        "otto@example.org", organisation=detention_unit, role=Role.DECISION_MAKER
    )
    for outsider in (alice, other_authority_dm):
        assert factories.signed_in_client(outsider).get(url).status_code == 404
        assert (
            factories.signed_in_client(outsider).post(url, {"reason": "mistake"}).status_code == 404
        )
    client = factories.signed_in_client(sally)
    assert url in client.get(pair_url).content.decode()
    page = client.get(url)
    assert page.status_code == 200
    assert "Change this answer" in page.content.decode()
    refused = client.post(url, {})
    assert "Select why this answer is being changed" in refused.content.decode()

    assert client.post(url, {"reason": "mistake"})["Location"] == pair_url
    pair.refresh_from_db()
    assert pair.status == PairStatus.PROPOSED
    assert (pair.rejected_by, pair.reopened_by, pair.reopen_reason) == (dmitri, sally, "mistake")
    event = AuditEvent.objects.get(action="linkage.pair_reopened")
    assert (event.actor, event.detail["reason"]) == (sally, "mistake")
    shown = client.get(pair_url).content.decode()
    assert "Reopened by Sally Senior" in shown
    assert "Dmitri" in shown  # who answered "Not the same person" is still said
    # A second press goes back to the pair; the open pair has nothing to reopen.
    again = client.post(url, {"reason": "mistake"}, follow=True)
    assert "already open for a new answer" in again.content.decode()
    assert client.get(url).status_code == 404

    client.post(pair_url, {"answer": PairStatus.CONFIRMED})
    pair.refresh_from_db()
    assert pair.status == PairStatus.CONFIRMED
    assert selectors.cases_linked(yuliya_earlier.pk, julia_later.pk)
    assert pair.rejected_by == dmitri
    assert "Earlier answer" in client.get(pair_url).content.decode()
    with pytest.raises(ValidationError):
        services.candidate_pair_reopen(by=Actor(sally), pair_id=pair.pk, reason="mistake")


def test_a_rejected_pair_is_not_reopened_while_a_newer_one_waits_for_an_answer(
    yuliya_earlier: Case, julia_later: Case, dmitri: User
) -> None:
    """A compared value changed after the rejection, so a run proposed the two again as a new
    pair: the old one is not reopened beside it (one open pair per two referrals)."""
    old = pair_of(yuliya_earlier, julia_later)
    candidate_pair_review(by=Actor(dmitri), pair_id=old.pk, status=PairStatus.REJECTED)
    pair_of(yuliya_earlier, julia_later)
    with pytest.raises(ValidationError) as refused:
        services.candidate_pair_reopen(by=Actor(dmitri), pair_id=old.pk, reason="mistake")
    assert "answer that one" in refused.value.messages[0]
    old.refresh_from_db()
    assert old.status == PairStatus.REJECTED


@pytest.fixture
def detention_unit(db: None) -> Organisation:
    return factories.organisation("Detention Decisions Unit", OrganisationKind.COMPETENT_AUTHORITY)


@pytest.fixture
def both_authorities_dm(authority: Organisation, detention_unit: Organisation) -> User:
    user = factories.user(
        "dual@example.org", organisation=authority, role=Role.DECISION_MAKER, full_name="Dua Two"
    )
    Membership.objects.create(user=user, organisation=detention_unit, role=Role.DECISION_MAKER)
    return user


def _linked_through_another_authority(
    alice: User,
    charlie: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
    authority: Organisation,
    detention_unit: Organisation,
    both_authorities_dm: User,
) -> tuple[Case, Case, Case, CandidatePair]:
    a = case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority,
        given_names="Olena", family_name="Testenko",
    )  # fmt: skip
    b = case_factories.case(
        referred_by=charlie, referring_organisation=southvale_police, authority=authority,
        given_names="Olena", family_name="Testenko",
    )  # fmt: skip
    c = case_factories.case(
        referred_by=charlie, referring_organisation=southvale_police, authority=detention_unit,
        given_names="Olena", family_name="Testenko",
    )  # fmt: skip
    dual = Actor(both_authorities_dm)
    for one, other in ((a, c), (b, c)):
        candidate_pair_review(by=dual, pair_id=pair_of(one, other).pk, status=PairStatus.CONFIRMED)
    return a, b, c, pair_of(a, b)


def test_a_decision_maker_is_not_told_of_links_through_a_referral_they_may_not_open(
    alice: User,
    charlie: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
    authority: Organisation,
    detention_unit: Organisation,
    both_authorities_dm: User,
    dmitri: User,
) -> None:
    """Harmed: the person whose third referral (C) went to another competent authority, and
    the decision maker. Dmitri decides only for Eastgate and may not open C, yet the pair page
    of A-B tells him the two are "already linked as the same person through other referrals"
    and refuses "Not the same person" until he unlinks pairs he cannot see or reach (their
    case pages show no link he may undo). He learns that a referral he may not open exists
    and is left with an instruction he cannot follow.

    Cause: `linkage/selectors.cases_linked` (used by `views.pair`, `views.pair_unlink`) and the
    `linked_already` annotation of `open_pairs_for_review`, and `services._linked_already`,
    read the whole identity cluster, not only links through referrals the actor may open
    (`cases_visible_to`). Fix: judge "linked through others" from paths of confirmed pairs the
    actor may review (or members they may open), and word the refusal for what they can do."""
    _, _, c, open_pair = _linked_through_another_authority(
        alice, charlie, northmoor_police, southvale_police, authority, detention_unit,
        both_authorities_dm,
    )  # fmt: skip

    client = factories.signed_in_client(dmitri)
    # Dmitri may not open C at all.
    assert client.get(reverse("cases:detail", args=[c.reference])).status_code == 404

    listing = client.get(reverse("linkage:pairs")).content.decode()
    page = client.get(reverse("linkage:pair", args=[open_pair.pk])).content.decode()
    assert "through other referrals" not in listing, (
        "the queue tells an Eastgate-only decision maker that A and B are linked through a "
        "referral he may not open"
    )
    assert "through other referrals" not in page, (
        "the pair page tells an Eastgate-only decision maker that A and B are linked through "
        "a referral he may not open"
    )


def test_links_through_another_authority_refuse_no_answer_but_show_to_who_may_see_them(
    alice: User,
    charlie: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
    authority: Organisation,
    detention_unit: Organisation,
    both_authorities_dm: User,
    dmitri: User,
) -> None:
    """The decision maker of both authorities still sees A-B linked through others, with the
    pairs to unlink named on the page; Dmitri's "Not the same person" is taken (he can neither
    see nor undo the link through C), and its audit event says the cluster still joins them."""
    open_pair = _linked_through_another_authority(
        alice, charlie, northmoor_police, southvale_police, authority, detention_unit,
        both_authorities_dm,
    )[3]  # fmt: skip
    url = reverse("linkage:pair", args=[open_pair.pk])
    dual_page = factories.signed_in_client(both_authorities_dm).get(url).content.decode()
    assert "already linked as the same person through other referrals" in dual_page
    for linking in CandidatePair.objects.filter(status=PairStatus.CONFIRMED):
        assert reverse("linkage:pair_unlink", args=[linking.pk]) in dual_page
    assert (
        "Linked through other referrals"
        in (
            factories.signed_in_client(both_authorities_dm).get(reverse("linkage:pairs"))
        ).content.decode()
    )

    response = factories.signed_in_client(dmitri).post(url, {"answer": "rejected"})
    assert response.status_code == 302
    open_pair.refresh_from_db()
    assert open_pair.status == PairStatus.REJECTED
    event = AuditEvent.objects.get(action="linkage.pair_reviewed", object_id=str(open_pair.pk))
    assert event.detail["linked_through_others"] is True


def test_an_unlink_still_takes_effect_after_an_unlinked_referral_is_erased(
    alice: User,
    charlie: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
    authority: Organisation,
    dmitri: User,
    dpo: User,
) -> None:
    """Harmed: two different people B and D, wrongly linked. After E (whose links to both
    were already undone) is erased, the decision maker finds B and D are different people and
    unlinks B-D: the page says "still linked through other referrals confirmed as the same
    person", and no pair is left that could undo it. Each keeps the other's re-trafficking
    warning and protection from removal, is counted as one person, and a subject access export
    names the other's referral.

    Cause: `services.candidate_pair_unlink` / `_cluster_rebuild` leave `linked_by` pointing at
    the unlinked pair, and `linkage_records_pseudonymise` selects `joined` by
    `linked_by_id__in=pair_ids` over pairs of every status. Fix: when unlinking, re-point or
    clear `linked_by` of members it named; in the erasure, count only CONFIRMED pairs."""
    e = closed(_refer(alice, northmoor_police, authority, "Arta"))
    b = _refer(charlie, southvale_police, authority, "Arta")
    d = _refer(alice, northmoor_police, authority, "Arta")
    actor = Actor(dmitri)
    e_d = candidate_pair_review(by=actor, pair_id=pair_of(e, d).pk, status=PairStatus.CONFIRMED)
    e_b = candidate_pair_review(by=actor, pair_id=pair_of(e, b).pk, status=PairStatus.CONFIRMED)
    b_d = candidate_pair_review(by=actor, pair_id=pair_of(b, d).pk, status=PairStatus.CONFIRMED)
    candidate_pair_unlink(by=actor, pair_id=e_b.pk, reason="new_information")
    candidate_pair_unlink(by=actor, pair_id=e_d.pk, reason="new_information")
    assert not selectors.cases_linked(e.pk, b.pk)
    assert not selectors.cases_linked(e.pk, d.pk)
    assert selectors.cases_linked(b.pk, d.pk)
    # No membership names an undone link.
    assert set(ClusterMember.objects.values_list("linked_by_id", flat=True)) == {b_d.pk}

    # E is linked to no one now; its person's details are erased on request.
    factories.person_erased(
        e.person,
        recorded_by=dpo,
        request_reference="DP-UNLINKED-1",
        request_received_on=timezone.localdate(),
    )
    assert selectors.cases_linked(b.pk, d.pk)

    candidate_pair_unlink(by=actor, pair_id=b_d.pk, reason="new_information")
    assert not selectors.cases_linked(b.pk, d.pk), (
        "B and D stay linked after their only link was undone: undone links to the erased "
        "referral E were treated as live ones"
    )


def test_an_erasure_joins_no_one_through_a_stale_link_to_an_undone_pair(
    alice: User,
    charlie: User,
    northmoor_police: Organisation,
    southvale_police: Organisation,
    authority: Organisation,
    dmitri: User,
    dpo: User,
) -> None:
    """Links stored before the fix may still name an undone pair: the erasure counts only
    confirmed pairs, so such a member is not joined through the erased referral."""
    e = closed(_refer(alice, northmoor_police, authority, "Arta"))
    b = _refer(charlie, southvale_police, authority, "Arta")
    d = _refer(alice, northmoor_police, authority, "Arta")
    actor = Actor(dmitri)
    e_b = candidate_pair_review(by=actor, pair_id=pair_of(e, b).pk, status=PairStatus.CONFIRMED)
    b_d = candidate_pair_review(by=actor, pair_id=pair_of(b, d).pk, status=PairStatus.CONFIRMED)
    candidate_pair_unlink(by=actor, pair_id=e_b.pk, reason="mistake")
    # As an unlink before the fix left it.
    ClusterMember.objects.filter(case=b).update(linked_by=e_b)
    factories.person_erased(
        e.person,
        recorded_by=dpo,
        request_reference="DP-UNLINKED-2",
        request_received_on=timezone.localdate(),
    )
    assert not ClusterMember.objects.exclude(linked_through_erased=None).exists()
    candidate_pair_unlink(by=actor, pair_id=b_d.pk, reason="mistake")
    assert not selectors.cases_linked(b.pk, d.pk)
