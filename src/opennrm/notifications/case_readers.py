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
stop 41). One notification's check (the worker's) is the same check asked of one pair.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from opennrm.accounts.models import User

# A news item of a case: the case's id and the notification's link (a path, or empty).
CaseNews = tuple[int, str]

# A check: given the recipient and pairs of news, the pairs they may still hear of.
CaseReaderBatch = Callable[[User, set[CaseNews]], set[CaseNews]]

_BATCHES: list[CaseReaderBatch] = []


def register_case_reader_batch(check: CaseReaderBatch) -> None:
    """Add a check (once; call it from the app's `AppConfig.ready()`)."""
    if check not in _BATCHES:
        _BATCHES.append(check)


def pairs_heard_of(user: User, pairs: Iterable[CaseNews]) -> set[CaseNews]:
    """Of `pairs` (case id, link), those every registered check lets `user` hear of."""
    heard = set(pairs)
    for check in _BATCHES:
        if not heard:
            break
        heard &= check(user, set(heard))
    return heard


def may_hear_of_case(user: User, case_id: int, link: str = "") -> bool:
    """Whether every registered check lets `user` hear news of the case linking to `link`: the
    same checks as `pairs_heard_of`, asked of one pair."""
    return (case_id, link) in pairs_heard_of(user, [(case_id, link)])
