"""Gaps a security and privacy review of record linkage (ADRs 0048-0054) found, and their
fixes (ADR 0052, addendum of 2026-12-05): a linkage run or the check at submission storing a
pair scored from a person's erased values; an unlink after an erasure dropping links ADR 0052
keeps; "not the same person" recorded for two referrals other confirmed pairs link; the subject
access export leaving out a referral's links. Synthetic people only."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent
from opennrm.cases.models import Case
from opennrm.linkage import engine, services
from opennrm.linkage.models import (
    CandidatePair,
    ClusterMember,
    LinkageModel,
    PairStatus,
)
from opennrm.linkage.services import (
    LINKED_ALREADY,
    candidate_pair_review,
    candidate_pair_unlink,
)
from opennrm.privacy import services as privacy

from . import case_factories, factories
from .linkage_helpers import closed, pair_of


def _refer(user: User, organisation: Organisation, authority: Organisation, name: str) -> Case:
    return case_factories.case(
        referred_by=user,
        referring_organisation=organisation,
        authority=authority,
        given_names=name,
        family_name="Testperson",
    )


def _erase(dpo: User, case: Case, ref: str) -> None:
    privacy.person_erase(
        by=dpo,
        person=case.person,
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
