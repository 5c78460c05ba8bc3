"""Who may still be e-mailed news of a case: a check the cases app registers (ADR 0008).

The worker e-mails a notification some time after it was made, and by then its recipient may
have moved to another organisation: still holding a role in force, but no longer one through
which the case's news is theirs. Only the cases app knows who may open a case, and it tells
people through this app, so this app may not import it: the cases app registers its check with
`register_case_reader_check` from its `AppConfig.ready()`. A notification about a case is
e-mailed only if every registered check lets its recipient hear of the case. A check is given
the notification's link too: what someone is told of a case for one role links to the pages of
that role (a support coordinator's, to the support pages, never the case page they cannot
open), so the link says for which role the news was theirs.
"""

from __future__ import annotations

from collections.abc import Callable

from opennrm.accounts.models import User

# A check: given the recipient, the case's id and the notification's link (a path, or empty),
# whether they may still hear that news of it.
CaseReaderCheck = Callable[[User, int, str], bool]

_CHECKS: list[CaseReaderCheck] = []


def register_case_reader_check(check: CaseReaderCheck) -> None:
    """Add a check (once; call it from the app's `AppConfig.ready()`)."""
    if check not in _CHECKS:
        _CHECKS.append(check)


def may_hear_of_case(user: User, case_id: int, link: str = "") -> bool:
    """Whether every registered check lets `user` hear news of the case linking to `link`."""
    return all(check(user, case_id, link) for check in _CHECKS)
