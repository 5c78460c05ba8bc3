"""The synthetic population of the linkage tests and benchmark (linkage.synthetic): the variety
of names it promises, since how often people share a name is what makes linkage hard at scale."""

from __future__ import annotations

from collections import Counter

from opennrm.linkage import synthetic


def test_each_language_group_adds_as_many_distinct_rarer_names_as_asked() -> None:
    # Ten first and ten last parts made at most 100 given names, whatever was asked: a
    # benchmark asking for 400 got about 100 given and 280 family names per group.
    for pool in synthetic._pools(400):
        given = [forms[0] for forms, _ in pool.given]
        family = [forms[0] for forms in pool.family]
        assert len(set(given)) == len(given) >= 400
        assert len(set(family)) == len(family) >= 400
        assert len(pool.given_weights) == len(given)
        assert len(pool.family_weights) == len(family)


def test_the_rarer_names_are_the_same_whatever_the_seed_of_the_people() -> None:
    # A population, then samples of it: the names come from a seed of their own.
    first, second = synthetic._pools(400), synthetic._pools(400)
    assert [pool.given for pool in first] == [pool.given for pool in second]
    assert [pool.family for pool in first] == [pool.family for pool in second]


def test_names_are_drawn_by_zipfs_law_the_usual_ones_most_often() -> None:
    truth = synthetic.people(20_000, duplicates=0, seed=5, rare_names=400)
    families = Counter(record.family_name for record in truth.records)
    usual = {forms[0] for pool in synthetic._pools(400) for forms in pool.family[:1]}
    commonest = {name for name, _ in families.most_common(len(usual))}
    assert commonest == usual
    # The long tail is there: most of the names are drawn, few people have each.
    assert len(families) > 0.8 * sum(len(pool.family) for pool in synthetic._pools(400))
    assert families.most_common(1)[0][1] < 0.03 * len(truth.records)
