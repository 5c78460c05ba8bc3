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


def test_names_are_drawn_by_zipfs_law_the_commonest_as_usual_as_in_its_language() -> None:
    # The commonest name once had 15% of its group whatever the language (Zipf's law over 408
    # names): three Albanians in ten called Erjon, far more people sharing a name and a year of
    # birth than any country has. Now each group's commonest names have the share given in
    # `_COMMONEST` (Nguyen 38% of the Vietnamese, Smith 1.33% of the English) and the rest
    # follow Zipf's law down from them.
    truth = synthetic.people(70_000, duplicates=0, seed=5, rare_names=400)
    pools = synthetic._pools(400)
    group_of = {
        nationality: n for n, pool in enumerate(pools) for nationality in pool.nationalities
    }
    families: list[Counter[str]] = [Counter() for _ in pools]
    givens: list[Counter[str]] = [Counter() for _ in pools]
    for record in truth.records:
        group = group_of[record.nationalities[0]]
        families[group][record.family_name] += 1
        givens[group][record.given_names] += 1
    for pool, commonest, family, given in zip(
        pools, synthetic._COMMONEST, families, givens, strict=True
    ):
        people = sum(family.values())
        for counts, first, share in (
            (family, pool.family[0][0], commonest.family),
            (given, pool.given[0][0][0], commonest.given),
        ):
            # Within four standard deviations of a binomial draw of `people`.
            spread = 4 * (share * (1 - share) / people) ** 0.5
            assert abs(counts[first] / people - share) < spread, (pool.nationalities, first)
        # The long tail is there: most of the names are drawn, few people have each.
        assert len(family) > 0.7 * len(pool.family)
    vietnamese = families[group_of["VN"]]
    assert vietnamese.most_common(1)[0][0] == "Nguyễn"
    assert vietnamese.most_common(1)[0][1] > 0.3 * sum(vietnamese.values())


def test_rarer_names_differ_in_their_consonants_as_a_languages_names_do() -> None:
    # Middles of a vowel alone gave five rarer names one key (Krasniqi, Kresniqi, Krusniqi...):
    # most of a group's names differed in a vowel only, and the linkage's name key, a name's
    # consonants, could not tell them apart (ADR 0059). Now most middles carry a consonant.
    # Vietnamese family names keep theirs: nearly every Vietnamese has one of some hundred.
    from opennrm.linkage.prepare import name_key, normalise_name

    for pool in synthetic._pools(2000):
        families = [forms[0] for forms in pool.family]
        keys = {name_key(normalise_name(name)) for name in families}
        if pool.nationalities == ["VN"]:
            assert len(families) < 600
            continue
        assert len(families) > 1400
        # A hundred keys at most before (ten first parts and ten last).
        assert len(keys) > 250, pool.nationalities
