"""Gaps found in review of the statistics (stop 40): the privacy spent in all by a release's
synthetic datasets (ADR 0037, addendum of stop 40).

A release version may carry a differentially private synthetic dataset, frozen and published
with it; a revision may carry a new one. Every published version stays public (ADR 0036), so
each dataset of the same referrals spends privacy again: the losses add up. Protected here: a
version's statement (the snapshot's "synthetic", read by the bulletin, the API and the
workbooks) gives the privacy spent in all with the earlier published datasets, and a new
dataset is refused once the release's budget (`synthetic.RELEASE_EPSILON_BUDGET`) would be
passed, with the reason on the revise page."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from django.test import Client

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import User
from opennrm.statistics import releases, synthetic, tables
from opennrm.statistics.models import ReleaseVersion, SyntheticDataset
from tests import factories

Q2 = tables.Period.quarter(2024, 2)


@pytest.fixture
def analysts(db: None) -> tuple[User, User]:
    """Ada prepares, Ben approves; thirty adults referred in April to June 2024."""
    return factories.analysts_and_referrals()


def first_published(analysts: tuple[User, User], epsilon: str) -> ReleaseVersion:
    ada, ben = analysts
    return releases.approve_release(
        by=Actor(ben),
        version=releases.prepare_release(
            by=Actor(ada),
            period=Q2,
            jurisdiction=None,
            title="Q2 2024",
            synthetic_epsilon=Decimal(epsilon),
        ),
    )


def revised(
    analysts: tuple[User, User], version: ReleaseVersion, epsilon: str | None
) -> ReleaseVersion:
    return releases.revise_release(
        by=Actor(analysts[0]),
        release=version.release,
        reason="A note was corrected",
        synthetic_epsilon=None if epsilon is None else Decimal(epsilon),
    )


def test_a_revision_with_a_second_synthetic_dataset_states_the_privacy_spent_in_all(
    analysts: tuple[User, User], client: Client
) -> None:
    """Version 1 is published with a synthetic dataset at epsilon 1; a revision (even one with
    no change in the data, which is allowed) is published with a second one of the same
    referrals at epsilon 1. Both files stay public, so the referrals have lost epsilon 2 in
    all: version 2's statement says so, naming version 1, and not only its own epsilon 1."""
    first = first_published(analysts, "1")
    second = releases.approve_release(by=Actor(analysts[1]), version=revised(analysts, first, "1"))
    # Both synthetic files are public.
    for version in (first, second):
        url = f"/official-statistics/{version.release_id}/{version.number}/synthetic.csv"
        assert client.get(url).status_code == 200

    stated = second.snapshot["synthetic"]
    text = " | ".join([stated["privacy"], *stated["notes"]])
    total_stated = re.search(r"epsilon\D{0,40}?(?<![\d.])2(?:\.0+)?(?![\d.])", text)
    assert total_stated, (
        "version 2 states only its own epsilon 1, though version 1's synthetic dataset of the "
        f"same referrals is public too (epsilon 2 in all): {stated['privacy']}"
    )
    assert "with version 1's dataset, epsilon = 2 and delta = 2e-09 in all" in stated["privacy"]
    assert stated["notes"][0] == stated["privacy"]
    assert stated["epsilon"] == 1.0  # its own, as before
    assert stated["epsilon_in_all"] == 2.0
    assert stated["earlier"] == [{"version": 1, "epsilon": 1.0, "delta": synthetic.DELTA}]
    assert SyntheticDataset.objects.get(version=second).privacy == stated["privacy"]

    # The bulletin, the API and the workbooks (which print the statement's "privacy") say so.
    page = client.get(f"/official-statistics/{second.release_id}/2/").content.decode()
    assert "version 1: epsilon 1), and they stay public" in page
    assert "epsilon 2 and delta 2e-09 in all for each referral" in page
    body = client.get(f"/api/v1/statistics/releases/{second.release_id}/versions/2").json()
    assert "epsilon = 2 and delta = 2e-09 in all" in body["synthetic"]["privacy"]
    # Version 1's own statement is unchanged (published, frozen) and has no total.
    assert "epsilon_in_all" not in first.snapshot["synthetic"]
    version_1_page = client.get(f"/official-statistics/{first.release_id}/1/").content.decode()
    assert 'id="synthetic-in-all"' not in version_1_page


def test_only_published_datasets_count_and_each_is_named(analysts: tuple[User, User]) -> None:
    """A withdrawn draft's dataset was never public and costs nothing; a version without a
    dataset adds nothing; every published one is named in the total."""
    ada, ben = analysts
    first = first_published(analysts, "1")
    releases.withdraw_draft(by=Actor(ben), version=revised(analysts, first, "3"))
    releases.approve_release(by=Actor(ben), version=revised(analysts, first, None))
    third = releases.approve_release(by=Actor(ben), version=revised(analysts, first, "0.5"))
    assert third.number == 4
    assert third.snapshot["synthetic"]["epsilon_in_all"] == 1.5
    fifth = revised(analysts, first, "0.25")
    stated = fifth.snapshot["synthetic"]
    assert stated["epsilon_in_all"] == 1.75
    assert "(version 1: epsilon 1; version 4: epsilon 0.5)" in stated["privacy"]
    assert "with versions 1 and 4's datasets, epsilon = 1.75" in stated["privacy"]
    shown = (
        factories.signed_in_client(ada)
        .get(f"/statistics/releases/{first.release_id}/5/")
        .content.decode()
    )
    assert "by MST; with the earlier versions&#39; datasets, epsilon 1.75 in all" in shown


def test_a_dataset_past_the_releases_budget_is_refused_on_the_page(
    analysts: tuple[User, User],
) -> None:
    """However many revisions there are, the release's datasets never spend more than
    `RELEASE_EPSILON_BUDGET` in all: the revise page says what has been spent and refuses a
    dataset that would pass it, on the epsilon field, writing nothing; the service refuses it
    too, whoever calls it."""
    assert Decimal("10") == synthetic.RELEASE_EPSILON_BUDGET
    ada, ben = analysts
    first = first_published(analysts, "9.5")
    url = f"/statistics/releases/{first.release_id}/revise/"
    client = factories.signed_in_client(ada)
    asked = client.get(url).content.decode()
    assert "(version 1: epsilon 9.5)" in asked
    assert "have spent epsilon 9.5 of the release&#39;s 10 in all" in asked
    refused = client.post(url, {"reason": "Late", "synthetic": "yes", "epsilon": "1"})
    page = refused.content.decode()
    assert refused.status_code == 200
    # Refused by the form, before the service (which refuses it too, below), on the field.
    assert "from 0.1 to 0.5, what this release&#39;s budget has left" in page
    assert 'href="#id_epsilon"' in page  # the error summary links to the field
    assert ReleaseVersion.objects.count() == 1
    assert SyntheticDataset.objects.count() == 1

    second = releases.approve_release(by=Actor(ben), version=revised(analysts, first, "0.5"))
    assert second.snapshot["synthetic"]["epsilon_in_all"] == 10.0
    with pytest.raises(releases.ReleaseRefused) as spent:
        revised(analysts, first, "0.1")
    assert list(spent.value.message_dict) == ["epsilon"]
    assert "no more can be published with this release" in spent.value.messages[0]
    # A revision without a dataset is still allowed.
    assert "synthetic" not in revised(analysts, first, None).snapshot


def test_a_draft_whose_statement_lacks_the_total_is_not_approved(
    analysts: tuple[User, User],
) -> None:
    """A revision prepared before the total was stated (its snapshot gives only its own
    epsilon) cannot be published as it is: approval refuses it, to be withdrawn."""
    first = first_published(analysts, "1")
    second = revised(analysts, first, "1")
    snapshot = dict(second.snapshot)
    snapshot["synthetic"] = {
        k: v
        for k, v in snapshot["synthetic"].items()
        if k not in {"epsilon_in_all", "delta_in_all", "earlier"}
    }
    ReleaseVersion.objects.filter(pk=second.pk).update(snapshot=snapshot)
    with pytest.raises(releases.ReleaseRefused) as refused:
        releases.approve_release(by=Actor(analysts[1]), version=second)
    assert "spends epsilon 2 in all, which it does not state" in refused.value.messages[0]
    assert ReleaseVersion.objects.get(pk=second.pk).state == "awaiting_approval"


def _main_text(page: str) -> str:
    main = page[page.find("<main") : page.find("</main>")]
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", main)))


@pytest.mark.page("statistics:release_revise")
def test_the_revise_page_offers_only_what_the_budget_has_left(
    analysts: tuple[User, User],
) -> None:
    """The revise page asks for a synthetic dataset only within what the release's budget has
    left: after a first dataset at 1 the hint and the check say 9 (a larger epsilon is refused
    on the page, naming the field, nothing written); with the whole budget spent the question is
    not asked and the page says why, and a revision is still prepared (without a dataset)."""
    first = first_published(analysts, "1")
    client = factories.signed_in_client(analysts[0])
    url = f"/statistics/releases/{first.release_id}/revise/"
    text = _main_text(client.get(url).content.decode())
    assert "A number from 0.1 to 9, what this release has left" in text
    versions = first.release.versions.count()
    refused = client.post(url, {"reason": "Late referrals", "synthetic": "yes", "epsilon": "9.5"})
    assert refused.status_code == 200
    assert "from 0.1 to 9, what this release&#39;s budget has left" in refused.content.decode()
    assert first.release.versions.count() == versions

    spent = revised(analysts, first, "9")
    releases.approve_release(by=Actor(analysts[1]), version=spent)
    text = _main_text(client.get(url).content.decode())
    assert "may spend at most 0" in text
    assert "No synthetic dataset can be published with this revision" in text
    assert "Publish a synthetic dataset with the release?" not in text
    made = client.post(url, {"reason": "Late referrals", "synthetic": "yes", "epsilon": "1"})
    assert made.status_code == 302
    newest = first.release.versions.order_by("-number").first()
    assert newest is not None
    assert newest.pk != spent.pk
    assert not SyntheticDataset.objects.filter(version=newest).exists()
