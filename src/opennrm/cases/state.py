"""The case's state machine: which status may follow which. Pure data and one check, no Django
beyond the status names, so the table can be read, tested and drawn on its own.

Decisions move a case; nothing else does. The transition service in `services.py` is the only
writer of `Case.status`, and it refuses any move not in this table.
"""

from __future__ import annotations

from .choices import CaseStatus as S

TRANSITIONS: dict[S, frozenset[S]] = {
    S.AWAITING_REASONABLE_GROUNDS: frozenset(
        {
            S.RECOVERY_PERIOD,  # positive reasonable grounds
            S.NEGATIVE_REASONABLE_GROUNDS,
            S.RG_SUSPENDED,  # missing before a decision
            S.RG_WITHDRAWN,  # left the country before a decision
        }
    ),
    # Found again, the person is decided on as one never missing would be; or known to have
    # left the country, the case is withdrawn.
    S.RG_SUSPENDED: frozenset(
        {
            S.AWAITING_REASONABLE_GROUNDS,
            S.RECOVERY_PERIOD,
            S.NEGATIVE_REASONABLE_GROUNDS,
            S.RG_WITHDRAWN,
        }
    ),
    S.RG_WITHDRAWN: frozenset({S.CLOSED}),
    S.NEGATIVE_REASONABLE_GROUNDS: frozenset({S.RECONSIDERATION, S.CLOSED}),
    S.RECOVERY_PERIOD: frozenset(
        {S.POSITIVE_CONCLUSIVE_GROUNDS, S.NEGATIVE_CONCLUSIVE_GROUNDS, S.DISQUALIFIED}
    ),
    S.POSITIVE_CONCLUSIVE_GROUNDS: frozenset({S.CLOSED}),
    S.NEGATIVE_CONCLUSIVE_GROUNDS: frozenset({S.RECONSIDERATION, S.CLOSED}),
    # An accepted reconsideration reopens the decision it was about (a new reasonable grounds
    # decision, or a new conclusive one during the recovery period); a refused one returns the
    # case to that negative decision.
    S.RECONSIDERATION: frozenset(
        {
            S.AWAITING_REASONABLE_GROUNDS,
            S.RECOVERY_PERIOD,
            S.NEGATIVE_REASONABLE_GROUNDS,
            S.NEGATIVE_CONCLUSIVE_GROUNDS,
            S.DISQUALIFIED,
        }
    ),
    S.DISQUALIFIED: frozenset({S.RECONSIDERATION, S.CLOSED}),
    S.CLOSED: frozenset(),
}


def refusal(current: str, to: str) -> str | None:
    """Why the move from `current` to `to` is not allowed, or None if it is."""
    here, there = S(current), S(to)
    if there in TRANSITIONS[here]:
        return None
    if not TRANSITIONS[here]:
        return f"The case is {here.label.lower()}: nothing more can be decided on it"
    allowed = ", ".join(sorted(s.label.lower() for s in TRANSITIONS[here]))
    return (
        f"A case that is {here.label.lower()} cannot become {there.label.lower()}. "
        f"From here it can only become: {allowed}"
    )
