"""The linkage job and the review of what it finds: the only writers of the linkage tables.

`linkage_run` is the one place identities are decrypted for linkage: in this process, into
memory, handed to the in-memory engine and dropped when the run ends. What it stores is case
ids, weights, comparison levels and keyed fingerprints, never a value (ADR 0048).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from opennrm.accounts.actor import Actor
from opennrm.accounts.models import User
from opennrm.audit.services import audit_record
from opennrm.cases.models import Case, Person
from opennrm.lib import fields

from . import engine, scoring
from .models import (
    OPEN_STATUSES,
    CandidatePair,
    ClusterMember,
    Engine,
    IdentityCluster,
    LinkageKey,
    LinkageModel,
    LinkageRun,
    PairStatus,
    ReopenReason,
    UnlinkReason,
)
from .prepare import (
    COUNTED_COLUMNS,
    PreparedRecord,
    blocking_values,
    compared_values,
    count_value,
    prepare,
    prepare_each,
    stored_values,
)
from .selectors import (
    identities_of,
    linkable_cases,
    linkage_model_current,
    linkage_records,
    linked_through_others,
    pair_get_for_review,
)

_RECORD = b"linkage-record"
_PAIR = b"linkage-pair"
_BLOCK = b"linkage-block"
# The most earlier referrals the check at submission compares a new one with: its blocking keys
# are specific (a name key with a year, a date, a phone), so more means a very common name, and
# the budget (300 ms) matters more than the tail.
SUBMISSION_CANDIDATES = 200


def _digest(secret: bytes, purpose: bytes, value: bytes) -> str:
    return hmac.new(secret, purpose + b"\x00" + value, hashlib.sha256).hexdigest()


def _record_digest(secret: bytes, record: PreparedRecord) -> str:
    return _digest(secret, _RECORD, compared_values(record).encode("utf-8"))


def pair_fingerprint(secret: bytes, first: PreparedRecord, second: PreparedRecord) -> str:
    """A keyed digest of both records' compared values: the same while they stay the same,
    and of no use to anyone without the blind-index key."""
    one, other = sorted((_record_digest(secret, first), _record_digest(secret, second)))
    return _digest(secret, _PAIR, f"{one}:{other}".encode())


def _key_digest(secret: bytes, value: str) -> str:
    return _digest(secret, _BLOCK, value.encode("utf-8"))[:32]


def _keys_write(records: list[PreparedRecord], identity_of: dict[int, int] | None = None) -> int:
    """The records' blocking keys, stored under their identities (`identity_of`, by case id:
    looked up when not given); a case with no identity row gets none."""
    if identity_of is None:
        identity_of = identities_of(pk__in=[r.unique_id for r in records])
    secret = fields.blind_index().current.secret
    keys = [
        LinkageKey(
            case_id=record.unique_id,
            identity_id=identity_of[record.unique_id],
            digest=_key_digest(secret, value),
        )
        for record in records
        if record.unique_id in identity_of
        for value in stored_values(record)
    ]
    LinkageKey.objects.bulk_create(keys, batch_size=5000)
    return len(keys)


@functools.lru_cache(maxsize=4)
def _level_weights(version: int) -> dict[str, Any]:
    """A stored model's level weights; cached by version, as a version never changes."""
    return engine.level_weights(LinkageModel.objects.get(version=version).splink_settings)


@dataclass
class _Counts:
    above: int = 0
    proposed: int = 0
    updated: int = 0
    still_rejected: int = 0
    already_linked: int = 0
    # Left out because a referral's identifying details were erased while it was scored.
    erased: int = 0


def _model_for_run(
    *,
    by: User | None,
    retrain: bool,
    records: list[PreparedRecord],
    threshold: float | None,
    engine_name: str,
) -> tuple[LinkageModel, bool]:
    current = linkage_model_current()
    if current is not None and not retrain:
        return current, False
    # Outside any transaction: training takes seconds to minutes, and holds no row.
    trained = engine.train(records, engine=engine_name, spark_master=settings.LINKAGE_SPARK_MASTER)
    model = linkage_model_store(
        splink_settings=trained, trained_on_records=len(records), by=by, threshold=threshold
    )
    return model, True


@transaction.atomic
def linkage_model_store(
    *,
    splink_settings: dict[str, Any],
    trained_on_records: int,
    by: User | None = None,
    threshold: float | None = None,
) -> LinkageModel:
    """Store a trained model as the next version, the one runs and the check at submission
    score with from now on (`linkage_model_current`). The run that trains one records it in its
    own event; the demo and the benchmark store one trained on synthetic people."""
    latest = LinkageModel.objects.aggregate(latest=Max("version"))["latest"]
    return LinkageModel.objects.create(
        version=(latest or 0) + 1,
        splink_version=engine.SPLINK_VERSION,
        splink_settings=splink_settings,
        threshold_match_probability=threshold
        if threshold is not None
        else engine.DEFAULT_THRESHOLD,
        trained_on_records=trained_on_records,
        trained_at=timezone.now(),
        trained_by=by,
    )


def _store_pairs(
    *,
    run: LinkageRun | None,
    pairs: list[engine.ScoredPair],
    records: dict[int, PreparedRecord],
    at: datetime,
) -> _Counts:
    index = fields.blind_index()
    secrets = {key.id: key.secret for key in index.keys}
    counts = _Counts(above=len(pairs))
    found = {(pair.first, pair.second): pair for pair in pairs}
    # A person erased (on request, or by the retention run) after the records were read and
    # before now has had their pairs and links deleted (ADR 0052), but this pair was scored
    # from their erased values: it must not be stored. Checked here, inside the storing
    # transaction, after locking the people's rows, which an erasure locks first: an erasure
    # that committed meanwhile is seen below, and one that starts now waits for this
    # transaction and then deletes what it stored.
    people = sorted({records[case_id].person_id for key in found for case_id in key})
    list(
        Person.objects.select_for_update()
        .filter(pk__in=people)
        .order_by("pk")  # one order for every locker: no deadlock between two runs
        .values_list("pk", flat=True)
    )
    still = set(
        linkable_cases()
        .filter(pk__in={case_id for key in found for case_id in key})
        .values_list("pk", flat=True)
    )
    found = {key: pair for key, pair in found.items() if key[0] in still and key[1] in still}
    counts.erased = counts.above - len(found)
    earlier: dict[tuple[int, int], list[CandidatePair]] = {}
    if found:
        wanted = Q()
        for first, second in found:
            wanted |= Q(case_a_id=first, case_b_id=second)
        for row in CandidatePair.objects.filter(wanted):
            earlier.setdefault((row.case_a_id, row.case_b_id), []).append(row)
    in_found = {case_id for key in found for case_id in key}
    cluster_of = dict(
        ClusterMember.objects.filter(case_id__in=in_found).values_list("case_id", "cluster_id")
    )
    new = []
    for key, scored in found.items():
        one, other = records[key[0]], records[key[1]]
        fingerprint = pair_fingerprint(index.current.secret, one, other)
        rows = earlier.get(key, [])
        linked = key[0] in cluster_of and cluster_of.get(key[0]) == cluster_of.get(key[1])
        if linked or any(r.status == PairStatus.CONFIRMED for r in rows):
            counts.already_linked += 1
            continue
        # Rejected, and nothing compared has changed since: not proposed again. A fingerprint
        # under a key no longer configured cannot be checked, so the pair is proposed again
        # (a person reviews it once more rather than a change being missed).
        # A link undone (unlinked) is a rejection too (ADR 0049).
        if any(
            r.status in (PairStatus.REJECTED, PairStatus.UNLINKED)
            and r.fingerprint_key in secrets
            and hmac.compare_digest(
                r.fingerprint,
                pair_fingerprint(secrets[r.fingerprint_key], one, other),
            )
            for r in rows
        ):
            counts.still_rejected += 1
            continue
        values = {
            "run": run,
            "match_weight": scored.match_weight,
            "match_probability": scored.match_probability,
            "comparisons": scored.comparisons,
            "fingerprint": fingerprint,
            "fingerprint_key": index.current.id,
        }
        open_row = next((r for r in rows if r.status in OPEN_STATUSES), None)
        if open_row is not None:
            for name, value in values.items():
                setattr(open_row, name, value)
            open_row.save(update_fields=list(values))
            counts.updated += 1
            continue
        new.append(CandidatePair(case_a_id=key[0], case_b_id=key[1], created_at=at, **values))
    CandidatePair.objects.bulk_create(new)
    counts.proposed = len(new)
    return counts


def linkage_run(
    *,
    by: User | None,
    retrain: bool = False,
    threshold: float | None = None,
    engine_name: str | None = None,
) -> LinkageRun:
    """Find referrals that may be the same person and propose them for review.

    1. Decrypt every identity, in this process, and prepare it (`prepare`) in memory.
    2. Train a model (the first run, or `retrain`) and store it as a new version; otherwise
       score with the newest stored model, so that scores are reproducible.
    3. Score the blocked pairs on the in-memory engine; keep those at or above the model's
       threshold.
    4. Store them as proposed pairs (case ids, weights, levels, fingerprint), except pairs
       already linked, and rejected pairs whose compared values have not changed.
    5. Record one audit event with the counts.

    `threshold` applies only to a model trained by this run (it is stored with the model).
    `engine_name` is "duckdb" or "spark" (ADR 0050); by default the configured one
    (`OPENNRM_LINKAGE_ENGINE`).
    """
    engine_name = engine_name or settings.LINKAGE_ENGINE
    if engine_name not in Engine.values:
        raise ValueError(f"Unknown linkage engine {engine_name!r}")
    started = timezone.now()
    if retrain or linkage_model_current() is None:
        # Refuse before decrypting anyone, rather than after.
        available = linkable_cases().count()
        if available < engine.MIN_TRAINING_RECORDS:
            raise engine.NotEnoughRecords(
                f"A linkage model needs at least {engine.MIN_TRAINING_RECORDS} referrals to "
                f"learn from; there are {available}."
            )
    records = list(prepare_each(linkage_records()))
    by_id = {record.unique_id: record for record in records}
    model, trained = _model_for_run(
        by=by, retrain=retrain, records=records, threshold=threshold, engine_name=engine_name
    )
    result = engine.score(
        records,
        model.splink_settings,
        model.threshold_match_probability,
        engine=engine_name,
        spark_master=settings.LINKAGE_SPARK_MASTER,
    )
    with transaction.atomic():
        run = LinkageRun.objects.create(
            started_at=started,
            finished_at=started,
            by=by,
            model=model,
            trained=trained,
            engine=engine_name,
            records=len(records),
            candidate_pairs=result.candidate_pairs,
            pairs_above_threshold=len(result.pairs),
            pairs_proposed=0,
            pairs_still_rejected=0,
        )
        counts = _store_pairs(run=run, pairs=result.pairs, records=by_id, at=started)
        # Every referral's blocking keys afresh, under the current key, for the check at
        # submission. Only up to the last referral this run read: one submitted meanwhile keeps
        # the keys its submission wrote.
        last = max(by_id, default=0)
        LinkageKey.objects.filter(case_id__lte=last).delete()
        _keys_write(records, identities_of(pk__lte=last))
        run.finished_at = timezone.now()
        run.pairs_proposed = counts.proposed
        run.pairs_still_rejected = counts.still_rejected
        run.save(update_fields=["finished_at", "pairs_proposed", "pairs_still_rejected"])
        detail: dict[str, object] = {
            "model_version": model.version,
            "trained": trained,
            "engine": run.engine,
            "records": run.records,
            "candidate_pairs": run.candidate_pairs,
            "pairs_above_threshold": run.pairs_above_threshold,
            "pairs_proposed": counts.proposed,
            "pairs_updated": counts.updated,
            "pairs_still_rejected": counts.still_rejected,
            "pairs_already_linked": counts.already_linked,
        }
        if counts.erased:
            # Scored, then left out: a referral's details were erased meanwhile.
            detail["pairs_of_erased_referrals"] = counts.erased
        audit_record(by=by, action="linkage.run", obj=run, detail=detail)
    return run


def linkage_keys_rebuild(batch: int = 2000) -> int:
    """Every referral's blocking keys afresh, without a run (which also rewrites them): for a
    deployment turning linkage on with referrals already stored, so that the check at
    submission finds them before the first run, and for the benchmark. Decrypts one batch at a
    time; one audit event with the count. Returns how many keys were written."""
    written = 0
    with transaction.atomic():
        LinkageKey.objects.all().delete()
        chunk: list[PreparedRecord] = []
        for record in prepare_each(linkage_records()):
            chunk.append(record)
            if len(chunk) == batch:
                written += _keys_write(chunk)
                chunk = []
        written += _keys_write(chunk)
        audit_record(by=None, action="linkage.keys_rebuilt", detail={"keys": written})
    return written


# --- Key rotation (`cases.key_rotation.KEYED_DIGESTS`, registered in `linkage.apps`) ---------
# The blocking keys and pair fingerprints are HMACs under the blind-index key: `rotate_keys`
# recomputes them under the current key, so that the old key can go without the check at
# submission missing earlier referrals or rejected pairs being proposed again. Each takes the
# next `size` rows after primary key `after`, inside the rotation's transaction, writes only
# what changes, and says (last primary key, rows checked, rows rewritten); None when none is left.


def _keys_rekeyed(after: int, size: int) -> tuple[int, int, int] | None:
    """The blocking keys of the next `size` referrals (by case id), under the current key; a
    referral with none yet (stored before linkage, never run) gets them, as a rebuild gives."""
    cases = dict(
        linkable_cases().filter(pk__gt=after).order_by("pk").values_list("pk", "person_id")[:size]
    )
    if not cases:
        return None
    # Locked as a run locks them before storing: an erasure (which locks them first) that
    # committed meanwhile is seen below; one that starts now waits for this batch.
    list(
        Person.objects.select_for_update()
        .filter(pk__in=set(cases.values()))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    identity_of = identities_of(pk__in=list(cases))
    records = list(prepare_each(linkage_records(list(identity_of))))
    secret = fields.blind_index().current.secret
    stored: dict[int, set[tuple[int, str]]] = {}
    for case_id, identity_id, digest in LinkageKey.objects.filter(
        case_id__in=list(cases)
    ).values_list("case_id", "identity_id", "digest"):
        stored.setdefault(case_id, set()).add((identity_id, digest))
    changed = [
        record
        for record in records
        if stored.get(record.unique_id, set())
        != {
            (identity_of[record.unique_id], _key_digest(secret, value))
            for value in stored_values(record)
        }
    ]
    LinkageKey.objects.filter(case_id__in=[r.unique_id for r in changed]).delete()
    _keys_write(changed, identity_of)
    return max(cases), len(cases), len(changed)


def _fingerprints_rekeyed(after: int, size: int) -> tuple[int, int, int] | None:
    """The fingerprints of the next `size` pairs, under the current key where they still match
    the referrals' compared values under their own key. One that no longer matches (a value
    changed since) or whose key is gone is left as it is: the pair is proposed again either way
    (ADR 48), whatever the key."""
    pairs = list(
        CandidatePair.objects.select_for_update().filter(pk__gt=after).order_by("pk")[:size]
    )
    if not pairs:
        return None
    index = fields.blind_index()
    secret_of = {key.id: key.secret for key in index.keys}
    older = [
        pair
        for pair in pairs
        if pair.fingerprint_key != index.current.id and pair.fingerprint_key in secret_of
    ]
    cases = {case_id for p in older for case_id in (p.case_a_id, p.case_b_id)}
    records = {r.unique_id: r for r in prepare_each(linkage_records(sorted(cases)))}
    changed = []
    for pair in older:
        one, other = records.get(pair.case_a_id), records.get(pair.case_b_id)
        if one is None or other is None:
            continue  # a referral erased: the pair goes with it (ADR 52)
        if not hmac.compare_digest(
            pair.fingerprint, pair_fingerprint(secret_of[pair.fingerprint_key], one, other)
        ):
            continue
        pair.fingerprint = pair_fingerprint(index.current.secret, one, other)
        pair.fingerprint_key = index.current.id
        changed.append(pair)
    CandidatePair.objects.bulk_update(changed, ["fingerprint", "fingerprint_key"])
    return pairs[-1].pk, len(pairs), len(changed)


REVIEW_STATUSES = (PairStatus.CONFIRMED, PairStatus.REJECTED, PairStatus.UNSURE)


def _cluster_link(pair: CandidatePair, at: datetime) -> IdentityCluster:
    """Put both cases of a confirmed pair in one cluster: a new one, the one either is in, or,
    when each is in its own, the older of the two (the other's members move to it)."""
    members = {
        m.case_id: m
        for m in ClusterMember.objects.select_for_update().filter(
            case_id__in=(pair.case_a_id, pair.case_b_id)
        )
    }
    clusters = sorted({m.cluster_id for m in members.values()})
    if clusters:
        cluster = IdentityCluster.objects.get(pk=clusters[0])
        for other in clusters[1:]:
            ClusterMember.objects.filter(cluster_id=other).update(cluster=cluster)
            IdentityCluster.objects.filter(pk=other).delete()
    else:
        cluster = IdentityCluster.objects.create(created_at=at)
    for case_id in (pair.case_a_id, pair.case_b_id):
        if case_id not in members:
            ClusterMember.objects.create(
                cluster=cluster, case_id=case_id, linked_by=pair, linked_at=at
            )
    return cluster


LINKED_ALREADY = (
    "These referrals are already linked as the same person through other referrals. To record "
    "that they are not the same person, first unlink the pairs that link them (listed on this "
    "pair's page), then answer this one again."
)


def _linked_already(pair: CandidatePair, by: Actor) -> tuple[bool, bool]:
    """Whether the pair's two cases are in one identity cluster, and whether they are linked
    so through other referrals the actor may review (`selectors.linked_through_others`): only
    that refuses "Not the same person", since only that the actor can see and undo (ADR 0049,
    addendum of stop 37). Their memberships are locked, so that no review or unlink moves them
    before the answer is stored."""
    clusters = dict(
        ClusterMember.objects.select_for_update()
        .filter(case_id__in=(pair.case_a_id, pair.case_b_id))
        .values_list("case_id", "cluster_id")
    )
    if not (len(clusters) == 2 and len(set(clusters.values())) == 1):
        return False, False
    return True, linked_through_others(by, pair.case_a_id, pair.case_b_id)


def candidate_pair_review(*, by: Actor, pair_id: int, status: str) -> CandidatePair:
    """A decision maker's answer on a pair: the same person (the cases are linked in one
    identity cluster, nothing merged), not the same person (not proposed again unless the
    compared values change), or not sure (stays open). "Not the same person" is refused for
    two cases other confirmed pairs the actor may review already link (`LINKED_ALREADY`):
    those are unlinked first. Linked only through a referral the actor may not open, the
    answer is taken (they could neither see nor undo that link), and its audit event says
    the cluster still joins them."""
    if status not in REVIEW_STATUSES:
        raise ValidationError("Choose whether these referrals are the same person.")
    try:
        found = pair_get_for_review(by, pair_id)
    except CandidatePair.DoesNotExist:
        raise PermissionDenied from None
    with transaction.atomic():
        pair = CandidatePair.objects.select_for_update().get(pk=found.pk)
        if pair.status not in OPEN_STATUSES:
            raise ValidationError("This pair has already been answered.")
        detail: dict[str, object] = {"status": status}
        if status == PairStatus.REJECTED:
            clustered, seen = _linked_already(pair, by)
            if seen:
                # Other confirmed pairs make them one person: recording "not the same person"
                # while they stay linked would leave the links and the answer contradicting
                # each other, and nothing of the links would change.
                raise ValidationError(LINKED_ALREADY)
            if clustered:
                # Joined through a referral the actor may not open: for whoever may see it.
                detail["linked_through_others"] = True
        now = timezone.now()
        pair.status = status
        pair.reviewed_by = by.user
        pair.reviewed_at = now
        pair.save(update_fields=["status", "reviewed_by", "reviewed_at"])
        if status == PairStatus.CONFIRMED:
            detail["cluster"] = _cluster_link(pair, now).pk
        audit_record(by=by.user, action="linkage.pair_reviewed", obj=pair, detail=detail)
    return pair


def _linked_by_repoint(members: dict[int, ClusterMember]) -> None:
    """After a rebuild: a member put in its cluster by a pair no longer confirmed (the one just
    undone) names a confirmed pair of its own instead, or none (linked only through an erased
    referral). `linked_by` never names an undone link, which an erasure would otherwise take
    for a live one (ADR 0052, addendum of stop 37)."""
    confirmed_of: dict[int, int] = {}
    live: set[int] = set()
    for pk, one, other in CandidatePair.objects.filter(
        status=PairStatus.CONFIRMED, case_a_id__in=members, case_b_id__in=members
    ).values_list("pk", "case_a_id", "case_b_id"):
        confirmed_of.setdefault(one, pk)
        confirmed_of.setdefault(other, pk)
        live.add(pk)
    for member in members.values():
        if member.linked_by_id is not None and member.linked_by_id not in live:
            ClusterMember.objects.filter(pk=member.pk).update(
                linked_by_id=confirmed_of.get(member.case_id)
            )


def _cluster_rebuild(cluster_id: int) -> dict[str, int]:
    """Make a cluster's members what its confirmed pairs join again, after one was undone: the
    members still joined by confirmed pairs to others stay together (the largest group keeps
    the cluster, any other group gets a new one), a member joined to no one leaves, and a
    cluster left with fewer than two members is dissolved. Members linked through the same
    erased referral count as joined to one another (ADR 0052, addenda of 2026-12-05)."""
    members = {
        m.case_id: m
        for m in ClusterMember.objects.select_for_update().filter(cluster_id=cluster_id)
    }
    parent = {case_id: case_id for case_id in members}

    def root(case_id: int) -> int:
        while parent[case_id] != case_id:
            parent[case_id] = parent[parent[case_id]]
            case_id = parent[case_id]
        return case_id

    confirmed = CandidatePair.objects.filter(
        status=PairStatus.CONFIRMED, case_a_id__in=members, case_b_id__in=members
    ).values_list("case_a_id", "case_b_id")
    for one, other in confirmed:
        parent[root(one)] = root(other)
    # Members linked through the same erased referral (`linked_through_erased`, set by
    # `linkage_records_pseudonymise`) stay linked (ADR 0052), but the confirmed pairs that
    # joined them named the erased case and went with it: nothing else is left to rebuild their
    # link from. They stay joined to one another (and only to those linked through the same
    # one), so that an unlink takes out only what its own pair joined.
    through_erased: dict[int, int] = {}
    for case_id, m in members.items():
        if m.linked_through_erased is not None:
            first = through_erased.setdefault(m.linked_through_erased, case_id)
            parent[root(case_id)] = root(first)
    groups: dict[int, list[int]] = {}
    for case_id in members:
        groups.setdefault(root(case_id), []).append(case_id)
    joined = sorted((g for g in groups.values() if len(g) > 1), key=lambda g: (-len(g), min(g)))
    alone = [g[0] for g in groups.values() if len(g) == 1]
    ClusterMember.objects.filter(cluster_id=cluster_id, case_id__in=alone).delete()
    for group in joined[1:]:
        moved = IdentityCluster.objects.create(created_at=timezone.now())
        ClusterMember.objects.filter(case_id__in=group).update(cluster=moved)
    _linked_by_repoint(members)
    if not joined:
        IdentityCluster.objects.filter(pk=cluster_id).delete()
    return {"left": len(alone), "split_off": max(len(joined) - 1, 0), "kept": bool(joined)}


def candidate_pair_unlink(*, by: Actor, pair_id: int, reason: str) -> CandidatePair:
    """Undo a confirmed link, for a coded reason: the pair is marked unlinked (a later run
    treats it as rejected: not proposed again unless a compared value changes), and the cluster
    keeps only the referrals other confirmed pairs still join (a cluster of one is dissolved).
    Cases and their histories are untouched, as they were when linked."""
    if reason not in UnlinkReason.values:
        raise ValidationError({"reason": "Select why these referrals are no longer linked"})
    try:
        found = pair_get_for_review(by, pair_id)
    except CandidatePair.DoesNotExist:
        raise PermissionDenied from None
    with transaction.atomic():
        pair = CandidatePair.objects.select_for_update().get(pk=found.pk)
        if pair.status != PairStatus.CONFIRMED:
            raise ValidationError("Only referrals confirmed as the same person can be unlinked.")
        now = timezone.now()
        pair.status = PairStatus.UNLINKED
        pair.unlinked_by = by.user
        pair.unlinked_at = now
        pair.unlink_reason = reason
        pair.save(update_fields=["status", "unlinked_by", "unlinked_at", "unlink_reason"])
        clusters = set(
            ClusterMember.objects.filter(case_id__in=(pair.case_a_id, pair.case_b_id)).values_list(
                "cluster_id", flat=True
            )
        )
        detail: dict[str, object] = {"reason": reason}
        for cluster_id in sorted(clusters):
            detail[f"cluster_{cluster_id}"] = _cluster_rebuild(cluster_id)
        audit_record(by=by.user, action="linkage.pair_unlinked", obj=pair, detail=detail)
    return pair


# The answers a reopen takes back: "Not the same person", and a link undone (ADR 0049, addenda
# of stops 37 and 39).
REOPENABLE = (PairStatus.REJECTED, PairStatus.UNLINKED)


def candidate_pair_reopen(*, by: Actor, pair_id: int, reason: str) -> CandidatePair:
    """Take back a "Not the same person" answer, or an unlink, for a coded reason: the pair is
    open again (proposed) for the authority's decision makers to answer anew. Who answered "Not
    the same person" and when is kept on the pair (`rejected_by`, `rejected_at`), as who
    unlinked it, when and why are (`unlinked_by`, `unlinked_at`, `unlink_reason`, left as they
    were), and in the audit trail, with who reopened it, when and why. Nothing is linked again
    until it is answered "Same person" (the unlink already rebuilt the cluster). Refused while
    the two cases have another pair waiting for an answer (answer that one) (ADR 0049, addenda
    of stops 37 and 39)."""
    if reason not in ReopenReason.values:
        raise ValidationError({"reason": "Select why this answer is being changed"})
    try:
        found = pair_get_for_review(by, pair_id)
    except CandidatePair.DoesNotExist:
        raise PermissionDenied from None
    with transaction.atomic():
        pair = CandidatePair.objects.select_for_update().get(pk=found.pk)
        if pair.status not in REOPENABLE:
            raise ValidationError(
                "Only a “Not the same person” answer or an unlink can be changed here."
            )
        if (
            CandidatePair.objects.filter(
                case_a_id=pair.case_a_id, case_b_id=pair.case_b_id, status__in=OPEN_STATUSES
            )
            .exclude(pk=pair.pk)
            .exists()
        ):
            raise ValidationError(
                "These referrals are already waiting for an answer as a newer possible earlier "
                "referral: answer that one from the list of possible earlier referrals."
            )
        now = timezone.now()
        taken_back = pair.status
        if taken_back == PairStatus.REJECTED:
            pair.rejected_by, pair.rejected_at = pair.reviewed_by, pair.reviewed_at
        # An unlinked pair's "Same person" answer (`reviewed_by`) is in its audit event; the
        # unlink stays on the pair.
        pair.status = PairStatus.PROPOSED
        pair.reopened_by = by.user
        pair.reopened_at = now
        pair.reopen_reason = reason
        pair.reviewed_by = None
        pair.reviewed_at = None
        pair.save(
            update_fields=[
                "status",
                "rejected_by",
                "rejected_at",
                "reopened_by",
                "reopened_at",
                "reopen_reason",
                "reviewed_by",
                "reviewed_at",
            ]
        )
        audit_record(
            by=by.user,
            action="linkage.pair_reopened",
            obj=pair,
            detail={"reason": reason, "taken_back": taken_back},
        )
    return pair


# How long the count of linkable referrals (what a name's count is a share of, at submission)
# is reused: at a million referrals counting them takes about 0.6 s on PostgreSQL (bench/linkage:
# one check in ten minutes pays it), and a few minutes' referrals change the share by a few
# parts in a million.
_RECORDS_COUNTED_SECONDS = 600


def _records_counted() -> int:
    counted = cache.get_or_set(
        "linkage:records-counted", lambda: linkable_cases().count(), _RECORDS_COUNTED_SECONDS
    )
    return int(counted or 0)


def _frequency(secret: bytes) -> scoring.Frequency:
    """A name's (or name key's) share of the stored referrals, as the engine counts a value's
    share of the records it scores: how many stored its count value, over how many referrals
    there are. Counted only when a pair reaches a level weighed by it (most checks never ask),
    and each value once."""

    @functools.cache
    def frequency(column: str, value: str) -> float | None:
        if column not in COUNTED_COLUMNS:
            return None
        counted = LinkageKey.objects.filter(
            digest=_key_digest(secret, count_value(column, value))
        ).count()
        return counted / max(counted, _records_counted()) if counted else None

    return frequency


def submission_check(*, case: Case) -> int:
    """At submission: compare a new referral with the earlier ones its blocking keys find, and
    propose those at or above the model's threshold to the competent authority's decision
    makers, as a run would. Returns how many were proposed; nothing of it reaches the first
    responder who submitted (their pages and responses say nothing of other referrals).

    1. Store the new referral's blocking keys (keyed digests).
    2. Find the referrals sharing one (names swapped included), at most
       `SUBMISSION_CANDIDATES` (those sharing the most first), and decrypt only those.
    3. Score each pair in Python with the stored model (`scoring`, the engine's twin), agreeing
       names weighed by how many stored referrals have each (`_frequency`).
    4. Store the pairs as a run does (rejected and linked pairs left out); one audit event.

    Without a stored model (no run yet) only step 1 is done.
    """
    prepared = [prepare(raw) for raw in linkage_records([case.pk])]
    if not prepared:
        return 0
    record = prepared[0]
    _keys_write([record])
    model = linkage_model_current()
    if model is None:
        return 0
    secret = fields.blind_index().current.secret
    digests = [_key_digest(secret, v) for v in blocking_values(record, crossed=True)]
    # The earlier referrals sharing the most keys first: with a usual name, the ones sharing
    # only the name key and year can be many more than the cap.
    found = (
        LinkageKey.objects.filter(digest__in=digests)
        .exclude(case_id=case.pk)
        .values("case_id")
        .annotate(shared=Count("id"))
        .order_by("-shared", "-case_id")
        .values_list("case_id", flat=True)[:SUBMISSION_CANDIDATES]
    )
    candidates = [prepare(raw) for raw in linkage_records(list(found))]
    weights = _level_weights(model.version)
    frequency = _frequency(secret)
    pairs = []
    for other in candidates:
        if other.person_id == record.person_id:
            continue
        first, second = sorted((record, other), key=lambda r: r.unique_id)
        weight, probability, rows = scoring.score(weights, first, second, frequency)
        if probability >= model.threshold_match_probability:
            pairs.append(
                engine.ScoredPair(
                    first=first.unique_id,
                    second=second.unique_id,
                    match_weight=weight,
                    match_probability=probability,
                    comparisons=rows,
                )
            )
    records = {c.unique_id: c for c in candidates} | {record.unique_id: record}
    with transaction.atomic():
        counts = _store_pairs(run=None, pairs=pairs, records=records, at=timezone.now())
        detail: dict[str, object] = {
            "model_version": model.version,
            "compared": len(candidates),
            "pairs_above_threshold": len(pairs),
            "pairs_proposed": counts.proposed,
            "pairs_still_rejected": counts.still_rejected,
        }
        if counts.erased:
            # Scored, then left out: an earlier referral's details were erased meanwhile.
            detail["pairs_of_erased_referrals"] = counts.erased
        audit_record(by=None, action="linkage.submission_check", obj=case, detail=detail)
    return counts.proposed


# --- Erasure and retention (ADR 0052) -----------------------------------------------------

# The largest group token (`ClusterMember.linked_through_erased`): below JavaScript's and
# PostgreSQL's bigint limits alike, and far too many to guess or to collide.
_GROUP_TOKENS = 2**53


def _erased_link_group() -> int:
    """A new opaque token for the members linked through one erasure's referrals: random, so
    that it says nothing of the erased referral (its id would identify it again, as the
    membership ADR 0052 deletes would) nor of when it was erased. Never 0 (members erased before
    the groups were kept, migration 0004) and never one in use."""
    while True:
        token = secrets.randbelow(_GROUP_TOKENS - 1) + 1
        if not ClusterMember.objects.filter(linked_through_erased=token).exists():
            return token


def linkage_records_pseudonymise(case_ids: list[int]) -> dict[str, int]:
    """Take the cases of a person whose details are being erased (on request or at the end of
    their retention period) out of linkage; how many of each went. Called only inside
    `privacy.services`' erasure, in its transaction, whose one audit event covers it (as the
    other apps' `*_pseudonymise` are).

    Only what links these cases goes: their cluster memberships (so no link shows that an
    erased referral is the same person as another, which would identify it again) and every
    candidate pair that names one of them (its comparison levels and fingerprint were computed
    from the erased values). The other cases, their people and identities are not touched.
    Cases that stay in a cluster stay linked, since a decision maker said they are one person;
    those a confirmed pair linked to an erased case, and those a deleted pair put in the
    cluster, have their `linked_by` emptied and share a new opaque token
    (`linked_through_erased`: linked through an erased referral, never saying which). A
    cluster left with fewer than two cases links nothing and is removed. The keyed blocking
    digests go with the identity (`LinkageKey`, a cascade), and again here by case."""
    if not case_ids:
        return {}
    naming = Q(case_a_id__in=case_ids) | Q(case_b_id__in=case_ids)
    # Locked, so that a review cannot link a pair while it is deleted.
    pair_ids = list(
        CandidatePair.objects.select_for_update().filter(naming).values_list("pk", flat=True)
    )
    leaving = ClusterMember.objects.select_for_update().filter(case_id__in=case_ids)
    clusters = sorted(set(leaving.values_list("cluster_id", flat=True)))
    links = leaving.delete()[1].get(ClusterMember._meta.label, 0)
    # The referrals confirmed as the same person as an erased one stay linked through it, with
    # no pair left behind that link: their `linked_by` is emptied (as is any pointing at a
    # pair being deleted), which is how an unlink later knows they stay joined to one another
    # (`_cluster_rebuild`).
    confirmed = CandidatePair.objects.filter(pk__in=pair_ids, status=PairStatus.CONFIRMED)
    through = {
        case_id for pair in confirmed.values_list("case_a_id", "case_b_id") for case_id in pair
    } - set(case_ids)
    # Only confirmed pairs link: a member whose `linked_by` names a pair since unlinked (or
    # rejected) is not linked through the erased referral (ADR 0052, addendum of stop 37); its
    # `linked_by` is only emptied, as the pair goes.
    ClusterMember.objects.filter(linked_by_id__in=pair_ids).exclude(
        linked_by_id__in=confirmed.values("pk")
    ).update(linked_by=None)
    joined = ClusterMember.objects.filter(
        Q(linked_by_id__in=confirmed.values("pk")) | Q(case_id__in=through)
    )
    # One group for the referrals linked through these erased ones (one person's), merged with
    # any group a member was already in through an earlier erasure: groups only ever join, so
    # an unlink later splits nobody an erased referral joined.
    earlier = set(
        joined.exclude(linked_through_erased=None).values_list("linked_through_erased", flat=True)
    )
    ClusterMember.objects.filter(
        Q(pk__in=joined.values("pk")) | Q(linked_through_erased__in=earlier)
    ).update(linked_by=None, linked_through_erased=_erased_link_group())
    pairs = CandidatePair.objects.filter(pk__in=pair_ids).delete()[1]
    dissolved = 0
    for cluster_id in clusters:
        remaining = ClusterMember.objects.filter(cluster_id=cluster_id)
        if remaining.count() < 2:
            remaining.delete()
            IdentityCluster.objects.filter(pk=cluster_id).delete()
            dissolved += 1
    keys = LinkageKey.objects.filter(case_id__in=case_ids).delete()[0]
    return {
        "identity_links": links,
        "candidate_pairs": pairs.get(CandidatePair._meta.label, 0),
        "identity_clusters": dissolved,
        "linkage_keys": keys,
    }
