"""The competent authority's record-linkage pages (ADR 0049): the pairs to review, one pair side
by side with its waterfall and the three answers, undoing a link, the quality page; the
"possible earlier referral" flag and linked referrals on the case page, and nothing of either
for anyone who may not review the pair (the first responder above all).

Pairs are written directly, with the waterfall rows `engine._waterfall` stores: training a
model needs a hundred referrals and seconds (tests/test_linkage_run.py does that)."""

from __future__ import annotations

import math
import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.audit.models import AuditEvent
from opennrm.cases.choices import CaseStatus
from opennrm.cases.models import Case
from opennrm.linkage import charts, engine
from opennrm.linkage.models import (
    CandidatePair,
    ClusterMember,
    IdentityCluster,
    LinkageModel,
    LinkageRun,
    PairStatus,
)
from opennrm.linkage.services import candidate_pair_review, candidate_pair_unlink

from . import api_helpers as a
from . import case_factories, factories, linkage_helpers

# As `engine._waterfall` writes them for a transliterated name and a swapped day and month:
# the prior (-16.6) and these add up to the pair's match weight, 2.8.
COMPARISONS: list[dict[str, Any]] = [
    {
        "comparison": "name",
        "gamma": 4,
        "label": "Both names sound alike",
        "match_weight": 9.8,
        "bayes_factor": 2**9.8,
    },
    {
        "comparison": "dob",
        "gamma": 4,
        "label": "Day and month swapped",
        "match_weight": 7.5,
        "bayes_factor": 2**7.5,
    },
    {
        "comparison": "sex",
        "gamma": 1,
        "label": "The same",
        "match_weight": 1.2,
        "bayes_factor": 2**1.2,
    },
    {
        "comparison": "nationalities",
        "gamma": 1,
        "label": "One in common",
        "match_weight": 2.3,
        "bayes_factor": 2**2.3,
    },
    {
        "comparison": "phone",
        "gamma": -1,
        "label": "phone is NULL",
        "match_weight": 0.0,
        "bayes_factor": 1.0,
    },
    {
        "comparison": "area",
        "gamma": 0,
        "label": "All other comparisons",
        "match_weight": -1.4,
        "bayes_factor": 2**-1.4,
    },
]
PRIOR = -16.6
WEIGHT = PRIOR + sum(row["match_weight"] for row in COMPARISONS)

EARLIER_NAME = ("Yuliya", "Ivanova")
LATER_NAME = ("Julia", "Ivanova")


def pair_of(one: Case, other: Case, *, weight: float = WEIGHT, **fields: Any) -> CandidatePair:
    return linkage_helpers.pair_of(one, other, weight=weight, comparisons=COMPARISONS, **fields)


@pytest.fixture
def other_authority_dm(db: None) -> User:
    other = factories.organisation("Other Authority", OrganisationKind.COMPETENT_AUTHORITY)
    return factories.user(
        "otto@example.org", organisation=other, role=Role.DECISION_MAKER, full_name="Otto Other"
    )


@pytest.fixture
def earlier(charlie: User, southvale_police: Organisation, authority: Organisation) -> Case:
    """Yuliya Ivanova, referred by Southvale Police last year and recognised as a victim."""
    return case_factories.case(
        referred_by=charlie,
        referring_organisation=southvale_police,
        authority=authority,
        status=CaseStatus.POSITIVE_CONCLUSIVE_GROUNDS,
        given_names=EARLIER_NAME[0],
        family_name=EARLIER_NAME[1],
        date_of_birth=date(1999, 7, 3),
        submitted_at=timezone.now() - timedelta(days=400),
        exploitation_places="A nail bar on Station Parade, Southvale",
    )


@pytest.fixture
def later(alice: User, northmoor_police: Organisation, authority: Organisation) -> Case:
    """Julia Ivanova, referred by Northmoor Police now, born "3/7/1999" read the other way."""
    return case_factories.case(
        referred_by=alice,
        referring_organisation=northmoor_police,
        authority=authority,
        given_names=LATER_NAME[0],
        family_name=LATER_NAME[1],
        date_of_birth=date(1999, 3, 7),
    )


@pytest.fixture
def pair(earlier: Case, later: Case, dmitri: User) -> CandidatePair:
    return pair_of(earlier, later)


def html_of(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.content.decode()


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- The queue ----------------------------------------------------------------------------------


@pytest.mark.page("linkage:pairs")
def test_the_queue_lists_open_pairs_strongest_first_with_their_probability(
    pair: CandidatePair,
    earlier: Case,
    later: Case,
    dmitri: User,
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    third = case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority
    )
    weaker = pair_of(later, third, weight=1.0)
    answered = pair_of(earlier, third, weight=9.0, status=PairStatus.REJECTED)
    client = factories.signed_in_client(dmitri)

    html = html_of(client, reverse("linkage:pairs"))

    assert html.index(reverse("linkage:pair", args=[pair.pk])) < html.index(
        reverse("linkage:pair", args=[weaker.pk])
    )
    assert reverse("linkage:pair", args=[answered.pk]) not in html
    assert f"{earlier.reference} and {later.reference}" in html
    assert "87.4%" in text_of(html)  # 2.8 as a probability
    assert "2 pairs waiting for an answer" in text_of(html)
    # No name on the list.
    assert EARLIER_NAME[0] not in html
    assert LATER_NAME[0] not in html
    # Linked from the home page (count and task), the navigation and the decisions queue.
    home = html_of(client, reverse("pages:home"))
    assert "2 possible earlier referrals to review" in home
    assert f'href="{reverse("linkage:pairs")}"' in home
    queue = html_of(client, reverse("decisions:queue"))
    assert "Possible earlier referral" in queue
    assert client.delete(reverse("linkage:pairs")).status_code == 405


def test_the_queue_is_the_authoritys_alone(
    pair: CandidatePair, alice: User, charlie: User, other_authority_dm: User
) -> None:
    for outsider in (alice, charlie):
        client = factories.signed_in_client(outsider)
        assert client.get(reverse("linkage:pairs")).status_code == 404
        assert client.get(reverse("linkage:quality")).status_code == 404
        assert "/linkage/" not in html_of(client, reverse("pages:home"))
    html = html_of(factories.signed_in_client(other_authority_dm), reverse("linkage:pairs"))
    assert "No pairs are waiting for an answer" in html
    assert reverse("linkage:pair", args=[pair.pk]) not in html


# --- The pair -----------------------------------------------------------------------------------


def reads_of(user: User) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="person.viewed", actor=user).order_by("id"))


@pytest.mark.page("linkage:pair")
def test_a_decision_maker_compares_the_two_records_and_confirms_they_are_one_person(
    pair: CandidatePair, earlier: Case, later: Case, dmitri: User
) -> None:
    client = factories.signed_in_client(dmitri)
    url = reverse("linkage:pair", args=[pair.pk])

    response = client.get(url)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    page = text_of(html)
    # Both records side by side, earlier first, with their case links.
    assert page.index("Yuliya Ivanova") < page.index("Julia Ivanova")
    assert "3 July 1999" in page
    assert "7 March 1999" in page
    assert "Southvale Police" in page
    assert "Northmoor Police" in page
    for case in (earlier, later):
        assert reverse("cases:detail", args=[case.reference]) in html
    # One read per record, naming the fields shown.
    events = reads_of(dmitri)
    assert [(e.person_id, e.object_id) for e in events] == [
        (earlier.person_id, str(earlier.pk)),
        (later.person_id, str(later.pk)),
    ]
    assert events[0].detail == {
        "fields": ["given_names", "family_name", "date_of_birth", "exploitation_places"]
    }
    assert events[1].detail == {"fields": ["given_names", "family_name", "date_of_birth"]}
    # The places, compared by the model, beside the rest; none given for the later one.
    assert "Places of exploitation A nail bar on Station Parade, Southvale None given" in page
    # The waterfall: an accessible chart, and the same figures in a table.
    svg = html.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert 'role="img"' in svg
    assert 'aria-labelledby="waterfall-title waterfall-desc"' in svg
    assert svg.count("<rect") == len(COMPARISONS) + 2
    assert "Day and month swapped, +7.50" in svg
    assert "Phone number: Not given in one or both referrals, +0.00" in svg
    assert "Day and month swapped" in page
    assert "Both names sound alike" in page
    assert "Prior" in page
    assert "-16.60" in page
    assert f"{2**7.5:.4g}" in page  # the date's Bayes factor
    assert "Match probability 87.4%" in page

    # Nothing chosen: a clear error, nothing changed, the records shown (and read) again.
    refused = client.post(url, {})
    assert refused.status_code == 200
    assert "Select whether these referrals are of the same person" in refused.content.decode()
    pair.refresh_from_db()
    assert pair.status == PairStatus.PROPOSED

    answered = client.post(url, {"answer": "confirmed"})

    assert answered["Location"] == url
    pair.refresh_from_db()
    assert (pair.status, pair.reviewed_by) == (PairStatus.CONFIRMED, dmitri)
    cluster = ClusterMember.objects.get(case=earlier).cluster_id
    assert ClusterMember.objects.get(case=later).cluster_id == cluster
    event = AuditEvent.objects.get(action="linkage.pair_reviewed")
    assert event.detail == {"status": "confirmed", "cluster": cluster}
    # Answered: the answer, who and when, no form; a second answer is refused.
    done = text_of(html_of(client, url))
    assert "Answer recorded: Same person" in done
    assert "Answered by Dmitri Dane" in done
    assert 'name="answer"' not in html_of(client, url)
    client.post(url, {"answer": "rejected"})
    pair.refresh_from_db()
    assert pair.status == PairStatus.CONFIRMED
    assert client.delete(url).status_code == 405


def test_not_sure_keeps_the_pair_open_and_says_who_answered(
    pair: CandidatePair, dmitri: User, sally: User
) -> None:
    url = reverse("linkage:pair", args=[pair.pk])
    factories.signed_in_client(dmitri).post(url, {"answer": "unsure"})
    pair.refresh_from_db()
    assert pair.status == PairStatus.UNSURE
    html = html_of(factories.signed_in_client(sally), url)
    assert "Answered \u201cNot sure\u201d by Dmitri Dane" in html
    assert 'name="answer"' in html
    factories.signed_in_client(sally).post(url, {"answer": "rejected"})
    pair.refresh_from_db()
    assert (pair.status, pair.reviewed_by) == (PairStatus.REJECTED, sally)


def test_a_pair_is_not_found_by_anyone_who_may_not_review_it(
    pair: CandidatePair, alice: User, charlie: User, other_authority_dm: User
) -> None:
    url = reverse("linkage:pair", args=[pair.pk])
    for outsider in (alice, charlie, other_authority_dm):
        client = factories.signed_in_client(outsider)
        assert client.get(url).status_code == 404
        assert client.post(url, {"answer": "confirmed"}).status_code == 404
    pair.refresh_from_db()
    assert pair.status == PairStatus.PROPOSED
    assert not AuditEvent.objects.filter(action="person.viewed").exists()


# --- Unlinking ----------------------------------------------------------------------------------


@pytest.mark.page("linkage:pair_unlink")
def test_a_decision_maker_unlinks_a_confirmed_pair_for_a_reason(
    pair: CandidatePair, earlier: Case, later: Case, dmitri: User, sally: User
) -> None:
    candidate_pair_review(by=Actor(dmitri), pair_id=pair.pk, status=PairStatus.CONFIRMED)
    client = factories.signed_in_client(sally)
    pair_url = reverse("linkage:pair", args=[pair.pk])
    url = reverse("linkage:pair_unlink", args=[pair.pk])
    assert url in html_of(client, pair_url)
    assert "Unlink these referrals" in html_of(client, url)

    refused = client.post(url, {})
    assert "Select why these referrals are no longer linked" in refused.content.decode()

    response = client.post(url, {"reason": "new_information"})

    assert response["Location"] == pair_url
    pair.refresh_from_db()
    assert (pair.status, pair.unlinked_by, pair.unlink_reason) == (
        PairStatus.UNLINKED,
        sally,
        "new_information",
    )
    # A cluster of two, one link undone: dissolved. Both cases as they were.
    assert not ClusterMember.objects.filter(case__in=(earlier, later)).exists()
    assert not IdentityCluster.objects.exists()
    assert Case.objects.filter(pk__in=(earlier.pk, later.pk)).count() == 2
    event = AuditEvent.objects.get(action="linkage.pair_unlinked")
    assert event.actor == sally
    assert event.detail["reason"] == "new_information"
    shown = text_of(html_of(client, pair_url))
    assert "Unlinked by Sally Senior" in shown
    assert "New information shows they are different people" in shown
    # Not linked any more: nothing to unlink.
    assert client.get(url).status_code == 404
    assert client.delete(url).status_code == 405


def test_only_the_authoritys_decision_makers_unlink_and_only_a_confirmed_pair(
    pair: CandidatePair, dmitri: User, alice: User, charlie: User, other_authority_dm: User
) -> None:
    url = reverse("linkage:pair_unlink", args=[pair.pk])
    # Not confirmed yet: there is no link to undo.
    assert factories.signed_in_client(dmitri).get(url).status_code == 404
    candidate_pair_review(by=Actor(dmitri), pair_id=pair.pk, status=PairStatus.CONFIRMED)
    for outsider in (alice, charlie, other_authority_dm):
        client = factories.signed_in_client(outsider)
        assert client.get(url).status_code == 404
        assert client.post(url, {"reason": "mistake"}).status_code == 404
    pair.refresh_from_db()
    assert pair.status == PairStatus.CONFIRMED


def test_unlinking_keeps_together_the_referrals_other_confirmed_pairs_join(
    earlier: Case,
    later: Case,
    dmitri: User,
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
) -> None:
    third = case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority
    )
    fourth = case_factories.case(
        referred_by=alice, referring_organisation=northmoor_police, authority=authority
    )
    actor = Actor(dmitri)
    chain = [pair_of(earlier, later), pair_of(later, third), pair_of(third, fourth)]
    for p in chain:
        candidate_pair_review(by=actor, pair_id=p.pk, status=PairStatus.CONFIRMED)
    assert ClusterMember.objects.values("cluster").distinct().count() == 1

    # Undo the middle link: two groups of two, each its own cluster.
    candidate_pair_unlink(by=actor, pair_id=chain[1].pk, reason="mistake")

    cluster = dict(ClusterMember.objects.values_list("case_id", "cluster_id"))
    assert cluster[earlier.pk] == cluster[later.pk]
    assert cluster[third.pk] == cluster[fourth.pk]
    assert cluster[earlier.pk] != cluster[third.pk]
    assert IdentityCluster.objects.count() == 2

    # Undo an end: the case alone leaves, the cluster of one is dissolved.
    candidate_pair_unlink(by=actor, pair_id=chain[2].pk, reason="record_corrected")

    assert set(ClusterMember.objects.values_list("case_id", flat=True)) == {earlier.pk, later.pk}
    assert IdentityCluster.objects.count() == 1
    assert AuditEvent.objects.filter(action="linkage.pair_unlinked").count() == 2


def test_a_link_is_undone_only_for_a_listed_reason(pair: CandidatePair, dmitri: User) -> None:
    from django.core.exceptions import ValidationError

    candidate_pair_review(by=Actor(dmitri), pair_id=pair.pk, status=PairStatus.CONFIRMED)
    with pytest.raises(ValidationError):
        candidate_pair_unlink(by=Actor(dmitri), pair_id=pair.pk, reason="because")
    pair.refresh_from_db()
    assert pair.status == PairStatus.CONFIRMED


# --- The case page: the flag and the links ------------------------------------------------------


def test_the_case_page_flags_a_possible_earlier_referral_to_the_authority(
    pair: CandidatePair, later: Case, earlier: Case, dmitri: User
) -> None:
    html = html_of(
        factories.signed_in_client(dmitri), reverse("cases:detail", args=[later.reference])
    )
    assert "Possible earlier referral" in html
    assert f"the same person as {earlier.reference}" in html
    assert f'href="{reverse("linkage:pair", args=[pair.pk])}">Compare the two referrals' in html
    # Answered, the flag goes.
    candidate_pair_review(by=Actor(dmitri), pair_id=pair.pk, status=PairStatus.REJECTED)
    html = html_of(
        factories.signed_in_client(dmitri), reverse("cases:detail", args=[later.reference])
    )
    assert "Possible earlier referral" not in html


def test_the_first_responder_of_the_second_referral_learns_nothing_of_the_first(
    pair: CandidatePair,
    earlier: Case,
    later: Case,
    alice: User,
    northmoor_police: Organisation,
) -> None:
    """Every page and API answer Alice can reach about her referral: no flag, no link, no
    reference or name of Southvale's referral, whether the pair is open or confirmed."""
    client = factories.signed_in_client(alice)
    _, secret = a.token(alice, northmoor_police, scopes=a.EVERY_SCOPE)
    api = a.client_with(secret)
    pages = [
        reverse("cases:detail", args=[later.reference]),
        reverse("cases:notes", args=[later.reference]),
        reverse("cases:contacts", args=[later.reference]),
        reverse("referrals:my_referrals"),
        reverse("notifications:list"),
        reverse("pages:home"),
        reverse("cases:search") + "?name=Julia+Ivanova",
        reverse("casework:my_tasks"),
    ]
    api_paths = [
        f"{a.REFERRALS_URL}/{later.reference}",
        a.REFERRALS_URL,
        f"/api/v1/cases/{later.reference}/timeline",
    ]
    traces = [earlier.reference, "earlier referral", "/linkage/", "Linked referral", "Yuliya"]
    for state in ("open", "confirmed"):
        if state == "confirmed":
            candidate_pair_review(
                by=Actor(User.objects.get(email="dmitri@example.org")),
                pair_id=pair.pk,
                status=PairStatus.CONFIRMED,
            )
        for path in pages:
            html = html_of(client, path)
            for trace in traces:
                assert trace.casefold() not in html.casefold(), (state, path, trace)
        for path in api_paths:
            response = api.get(path)
            assert response.status_code == 200, (path, response.status_code)
            body = response.content.decode()
            for trace in traces:
                assert trace.casefold() not in body.casefold(), (state, path, trace)
        assert client.get(reverse("linkage:pair", args=[pair.pk])).status_code == 404
    # Her own case page still works and names her referral: the walk would have seen a trace.
    assert later.reference in html_of(client, pages[0])


def test_the_referral_pages_of_a_referral_submitted_after_another_say_nothing_of_it(
    earlier: Case,
    alice: User,
    dmitri: User,
    northmoor_police: Organisation,
    routing: Organisation,
) -> None:
    """The second referral made through the referral services, as Alice submits it: her
    confirmation page, referral list, case page, copy of the referral and the API's answers,
    with the pair open, carry no trace of Southvale's referral."""
    from opennrm.referrals import services as referrals

    from . import referral_helpers as r

    pages = {
        **r.ADULT_REFERRAL,
        "person": {**r.PERSON, "given_names": "Julia", "family_name": "Ivanova", "aliases": ""},
    }
    draft = r.draft_through_services(alice, northmoor_police, pages)
    later = referrals.referral_submit(by=alice, draft=draft).case
    assert later is not None
    pair = pair_of(earlier, later)
    assert html_of(
        factories.signed_in_client(dmitri), reverse("cases:detail", args=[later.reference])
    ).count(reverse("linkage:pair", args=[pair.pk]))
    client = factories.signed_in_client(alice)
    _, secret = a.token(alice, northmoor_police, scopes=a.EVERY_SCOPE)
    shown = [
        html_of(client, reverse("referrals:confirmation", args=[draft.public_id])),
        html_of(client, reverse("referrals:my_referrals")),
        html_of(client, reverse("cases:detail", args=[later.reference])),
        a.client_with(secret).get(f"{a.REFERRALS_URL}/{later.reference}").content.decode(),
    ]
    copy = client.get(reverse("cases:referral_copy", args=[later.reference]))
    assert copy.status_code == 200
    assert later.reference in shown[2]
    for body in shown:
        for trace in (earlier.reference, "earlier referral", "/linkage/", EARLIER_NAME[0]):
            assert trace.casefold() not in body.casefold(), trace
    assert later.reference.encode() in copy.content  # the copy's text is searchable...
    assert earlier.reference.encode() not in copy.content  # ...and names only her referral


def test_the_case_page_shows_linked_referrals_and_possible_retrafficking(
    pair: CandidatePair,
    earlier: Case,
    later: Case,
    dmitri: User,
    alice: User,
    charlie: User,
) -> None:
    candidate_pair_review(by=Actor(dmitri), pair_id=pair.pk, status=PairStatus.CONFIRMED)
    client = factories.signed_in_client(dmitri)

    html = html_of(client, reverse("cases:detail", args=[later.reference]))

    page = text_of(html)
    assert "Linked referrals" in page
    assert reverse("cases:detail", args=[earlier.reference]) in html
    assert "referred by Southvale Police" in page
    # The earlier referral was recognised (positive conclusive grounds) before this one.
    assert "Possible re-trafficking" in page
    assert "Recognised as a victim before this referral" in page
    assert reverse("linkage:pair", args=[pair.pk]) in html
    # From the earlier case: linked, but no re-trafficking (the later one came after).
    earlier_page = text_of(html_of(client, reverse("cases:detail", args=[earlier.reference])))
    assert "Linked referrals" in earlier_page
    assert later.reference in earlier_page
    assert "Possible re-trafficking" not in earlier_page
    # Each referrer sees their own case, and nothing of the other's.
    for referrer, own, other in ((alice, later, earlier), (charlie, earlier, later)):
        own_page = html_of(
            factories.signed_in_client(referrer), reverse("cases:detail", args=[own.reference])
        )
        assert "Linked referrals" not in own_page
        assert other.reference not in own_page
        assert "re-trafficking" not in own_page


def test_a_referrer_who_may_open_both_referrals_sees_the_link(
    dmitri: User, alice: User, northmoor_police: Organisation, authority: Organisation
) -> None:
    one, two = (
        case_factories.case(
            referred_by=alice, referring_organisation=northmoor_police, authority=authority
        )
        for _ in range(2)
    )
    p = pair_of(one, two)
    candidate_pair_review(by=Actor(dmitri), pair_id=p.pk, status=PairStatus.CONFIRMED)
    html = html_of(factories.signed_in_client(alice), reverse("cases:detail", args=[two.reference]))
    assert "Linked referrals" in html
    assert reverse("cases:detail", args=[one.reference]) in html
    # The pair itself is the authority's: no link to it for the referrer.
    assert reverse("linkage:pair", args=[p.pk]) not in html


# --- Quality ------------------------------------------------------------------------------------


def stored_model() -> LinkageModel:
    """The engine's settings with m and u probabilities as a training would leave them."""
    settings = engine.settings().get_settings("duckdb").as_dict()
    settings["probability_two_random_records_match"] = 2**PRIOR / (1 + 2**PRIOR)
    for comparison in settings["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        for i, level in enumerate(levels):
            last = i == len(levels) - 1
            level["m_probability"] = 0.05 if last else 0.95 / (len(levels) - 1)
            level["u_probability"] = 0.9 if last else 0.1 / (len(levels) - 1)
    return LinkageModel.objects.create(
        version=3,
        splink_version=engine.SPLINK_VERSION,
        splink_settings=settings,
        threshold_match_probability=0.8,
        trained_on_records=360,
        trained_at=timezone.now(),
    )


@pytest.mark.page("linkage:quality")
def test_the_quality_page_counts_answers_estimates_precision_and_lists_the_model(
    dmitri: User,
    alice: User,
    northmoor_police: Organisation,
    authority: Organisation,
    other_authority_dm: User,
) -> None:
    model = stored_model()
    run = LinkageRun.objects.create(
        started_at=timezone.now(),
        finished_at=timezone.now(),
        model=model,
        trained=True,
        engine="duckdb",
        records=360,
        candidate_pairs=285,
        pairs_above_threshold=11,
        pairs_proposed=10,
        pairs_still_rejected=1,
    )
    cases = [
        case_factories.case(
            referred_by=alice, referring_organisation=northmoor_police, authority=authority
        )
        for _ in range(11)
    ]
    actor = Actor(dmitri)
    # Ten pairs at 0.95 (8 same, 2 not), one at 0.85 open.
    for i in range(10):
        p = pair_of(cases[i], cases[i + 1] if i < 9 else cases[0], weight=4.25, run=run)
        candidate_pair_review(
            by=actor, pair_id=p.pk, status=PairStatus.CONFIRMED if i < 8 else PairStatus.REJECTED
        )
    pair_of(cases[0], cases[2], weight=2.5, run=run)
    client = factories.signed_in_client(dmitri)

    html = html_of(client, reverse("linkage:quality"))

    page = text_of(html)
    assert "Found 11" in page
    assert "Reviewed 10" in page
    assert "Same person (linked) 8" in page
    assert "Not the same person 2" in page
    assert "Waiting for an answer 1" in page
    low, high = charts.wilson(8, 10) or (0, 0)
    assert f"80.0% (95% interval {low * 100:.1f}% to {high * 100:.1f}%, from 10 answers)" in page
    assert (round(low, 3), round(high, 3)) == (0.490, 0.943)
    # By band: 0.85 in 80-90%, 0.95 in 90-99%.
    assert "90% to under 99% 10 8 2 0 0 0 80.0%" in page
    assert "80% to under 90% 1 0 0 0 0 1 No answers yet" in page
    # The run and the model's parameters.
    assert "v3 (trained) 360 285 11 10 1" in page
    assert "Day and month swapped" in page
    dob = next(
        c for c in model.splink_settings["comparisons"] if c["output_column_name"] == "birth"
    )
    # As `stored_model` sets them: the levels but "else" share 0.95 of m and 0.1 of u.
    agreeing = len([lv for lv in dob["comparison_levels"] if not lv.get("is_null_level")]) - 1
    m, u = 0.95 / agreeing, 0.1 / agreeing
    assert f"Day and month swapped {m:.4g} {u:.4g} {math.log2(m / u):.2f}" in page
    # Another authority's decision maker sees none of these pairs, but the same model.
    other = text_of(
        html_of(factories.signed_in_client(other_authority_dm), reverse("linkage:quality"))
    )
    assert "Found 0" in other
    assert client.delete(reverse("linkage:quality")).status_code == 405


def test_the_quality_page_without_a_model_or_answers(dmitri: User) -> None:
    page = text_of(html_of(factories.signed_in_client(dmitri), reverse("linkage:quality")))
    assert "No pair answered either way yet" in page
    assert "No model has been trained yet" in page
    assert "No run yet" in page


def test_wilson_interval() -> None:
    assert charts.wilson(0, 0) is None
    low, high = charts.wilson(10, 10) or (0, 0)
    assert high == pytest.approx(1.0)
    assert 0.72 < low < 0.73
    low, high = charts.wilson(0, 10) or (0, 0)
    assert low == 0.0
    assert 0.27 < high < 0.28
