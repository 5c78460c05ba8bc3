"""Who may still hear news of a case: a check the cases app registers (ADR 0008).

The worker e-mails a notification some time after it was made, and by then its recipient may
have moved to another organisation: still holding a role in force, but no longer one through
which the case's news is theirs. Only the cases app knows who may open a case, and it tells
people through this app, so this app may not import it: the cases app registers its check with
`register_case_reader_batch` from its `AppConfig.ready()`. A notification about a case is
listed, opened, counted and e-mailed only if every registered check lets its recipient hear of
the case. A check is given the notification's link too: what someone is told of a case for one
role links to the pages of that role (a support coordinator's, to the support pages, never the
case page they cannot open), so the link says for which role the news was theirs.

A check answers for many (case, link) pairs at once, in a fixed number of queries: the
notifications page asks it once for every case its reader was told of (ADR 0008, addendum of
stop 41). One notification's check (the worker's) is the same check asked of one pair. With
each pair it lets through it says from when news was theirs: what a lead hears of a case only
because she leads its area was told her as a lead, so only news told since she became one is
hers (not what she was told before in another role; ADR 0008, addendum of stop 42).

Another app may keep news of a case for someone no check lets through any more
(`register_case_news_keeper`): a council's safeguarding lead keeps her news of a person who
turned 18 while her council still holds their children's services task, which opens for her,
and "Open" takes her there (ADR 0025, addendum of stop 42).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from opennrm.accounts.models import User

# A news item of a case: the case's id and the notification's link (a path, or empty).
CaseNews = tuple[int, str]

# What a check lets through: each news item heard, with the moment from which news told is the
# user's (None: whenever it was told).
Heard = dict[CaseNews, datetime | None]

# A check: given the recipient and pairs of news, the pairs they may still hear of, and since.
CaseReaderBatch = Callable[[User, set[CaseNews]], Heard]

# A keeper: given the recipient and cases' ids, those whose news stays theirs whatever the
# checks say, each with the moment from which it is theirs (None: whenever told) and the link
# that opens for them instead of a link that no longer does.
Kept = dict[int, tuple[datetime | None, str]]
CaseNewsKeeper = Callable[[User, set[int]], Kept]

_BATCHES: list[CaseReaderBatch] = []
_KEEPERS: list[CaseNewsKeeper] = []


def register_case_reader_batch(check: CaseReaderBatch) -> None:
    """Add a check (once; call it from the app's `AppConfig.ready()`)."""
    if check not in _BATCHES:
        _BATCHES.append(check)


def register_case_news_keeper(keeper: CaseNewsKeeper) -> None:
    """Add a keeper (once; call it from the app's `AppConfig.ready()`)."""
    if keeper not in _KEEPERS:
        _KEEPERS.append(keeper)


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


def _earlier(a: datetime | None, b: datetime | None) -> datetime | None:
    return None if a is None or b is None else min(a, b)


def heard_by_checks(user: User, pairs: Iterable[CaseNews]) -> Heard:
    """Of `pairs`, those every registered check lets `user` hear of, each from the latest
    moment any of them says."""
    heard: Heard = dict.fromkeys(pairs)
    for check in _BATCHES:
        if not heard:
            break
        answer = check(user, set(heard))
        heard = {
            pair: _later(since, answer[pair]) for pair, since in heard.items() if pair in answer
        }
    return heard


def kept_for(user: User, case_ids: Iterable[int]) -> Kept:
    """Of `case_ids`, those whose news a registered keeper keeps for `user`."""
    asked = set(case_ids)
    kept: Kept = {}
    for keeper in _KEEPERS:
        if not asked:
            break
        for case_id, (since, link) in keeper(user, set(asked)).items():
            # Two keepers of one case: the one that keeps more of its news.
            current = kept.get(case_id)
            if current is None or (
                current[0] is not None and (since is None or since < current[0])
            ):
                kept[case_id] = (since, link)
    return kept


def news_heard(user: User, pairs: Iterable[CaseNews]) -> Heard:
    """Of `pairs` (case id, link), those `user` may still hear of, each with the moment from
    which news told is theirs: what the checks let through, and every news of a case a keeper
    keeps for them (from the earlier of the two moments)."""
    asked = set(pairs)
    heard = heard_by_checks(user, asked)
    kept = kept_for(user, {case_id for case_id, _link in asked})
    for pair in asked:
        if pair[0] in kept:
            since = kept[pair[0]][0]
            heard[pair] = _earlier(heard[pair], since) if pair in heard else since
    return heard


def pairs_heard_of(user: User, pairs: Iterable[CaseNews]) -> set[CaseNews]:
    """Of `pairs` (case id, link), those `user` may hear of, told at some moment
    (`news_heard`)."""
    return set(news_heard(user, pairs))


def may_hear_of_case(
    user: User, case_id: int, link: str = "", told_at: datetime | None = None
) -> bool:
    """Whether `user` may hear news of the case linking to `link` (told at `told_at`, if
    given): the same rule as `news_heard`, asked of one pair."""
    heard = news_heard(user, [(case_id, link)])
    if (case_id, link) not in heard:
        return False
    since = heard[(case_id, link)]
    return told_at is None or since is None or told_at >= since


def link_to_open(user: User, case_id: int, link: str, told_at: datetime) -> str:
    """Where news of the case told at `told_at`, linking to `link`, opens for `user`: its own
    link while the checks let it through, else the link a keeper gives (its task, for a lead
    whose council still holds it); its own link if neither (it is not theirs to open)."""
    heard = heard_by_checks(user, [(case_id, link)])
    if (case_id, link) in heard:
        since = heard[(case_id, link)]
        if since is None or told_at >= since:
            return link
    kept = kept_for(user, [case_id]).get(case_id)
    return kept[1] if kept is not None else link
