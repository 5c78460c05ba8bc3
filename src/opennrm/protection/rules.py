"""Whether removal must not proceed for a case: a pure rule over the case's status and the dates
stored on it, no Django beyond the status names (as `cases.state`), so it can be read and tested
on its own. ADR 0040 gives the sources for each line.

The dates come from the case, where `policy.clock` wrote them when each clock started, under the
policy profile in force on that day: the recovery period's last day (`recovery_period_ends`,
extensions included) and the last day a negative decision may be reconsidered
(`reconsideration_until`). Nothing here recounts a period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from opennrm.cases.choices import CaseStatus as S


class Reason(StrEnum):
    """Why removal must not proceed. Each says no more than the protection needs."""

    AWAITING_REASONABLE_GROUNDS = "awaiting_reasonable_grounds"
    RECOVERY_PERIOD = "recovery_period"
    AWAITING_CONCLUSIVE_GROUNDS = "awaiting_conclusive_grounds"
    IDENTIFICATION_NOT_COMPLETE = "identification_not_complete"
    # Added by another source than the NRM case (e.g. a person taken in during an operation).
    OTHER_SOURCE = "other_source"


# The one answer for a reference that is not protected, whether the system knows it or not:
# the same words byte for byte, so a check reveals nothing but the protection itself.
NOT_PROTECTED_ANSWER = "No NRM protection recorded for this reference."


def long_date(day: date) -> str:
    """14 March 2027: the GOV.UK style, with no leading zero."""
    return f"{day.day} {day:%B %Y}"


@dataclass(frozen=True)
class Protection:
    """The answer to a check: protected or not, why, until when, and which source says so.

    `until` is the last day of the protection where one is known (the last day a negative
    conclusive grounds decision may be reconsidered: it lasts longer only if one is asked, so
    the answer says "at least until"); None while it lasts until a decision is made. The
    recovery period's end is not one: after it the person is protected until the conclusive
    grounds decision (CETS Art. 10(2)), so it is `recovery_period_ends`, named in the answer.
    """

    protected: bool
    reason: Reason | None = None
    until: date | None = None
    # Who says so: "nrm" for the case's own NRM status; another app names itself.
    source: str = ""
    # Another source's own words for why (shown as they are: they must identify nobody).
    explanation: str = ""
    # The recovery period's last day, for the words only: not the protection's last day.
    recovery_period_ends: date | None = None

    @property
    def answer(self) -> str:
        """The sentence an immigration enforcement officer reads, and nothing more."""
        if not self.protected:
            return NOT_PROTECTED_ANSWER
        return f"Removal must not proceed: {self.why}."

    @property
    def why(self) -> str:
        match self.reason:
            case Reason.AWAITING_REASONABLE_GROUNDS:
                return "a reasonable grounds decision is awaited"
            case Reason.RECOVERY_PERIOD if self.recovery_period_ends is not None:
                return (
                    f"recovery period ends {long_date(self.recovery_period_ends)}, and the "
                    "protection lasts until a conclusive grounds decision is made"
                )
            case Reason.AWAITING_CONCLUSIVE_GROUNDS:
                return "a conclusive grounds decision is awaited"
            case Reason.IDENTIFICATION_NOT_COMPLETE:
                if self.until is not None:
                    return (
                        "the identification process is not complete "
                        f"(at least until {long_date(self.until)})"
                    )
                return "the identification process is not complete"
            case _:
                return self.explanation


NOT_PROTECTED = Protection(protected=False)
NRM = "nrm"


def nrm_protection(
    *,
    status: str,
    on: date,
    recovery_period_ends: date | None,
    reconsideration_until: date | None,
) -> Protection:
    """Whether removal must not proceed on `on` for a case in `status`, under the NRM alone.

    - Awaiting a reasonable grounds decision (or suspended while the person is missing, which is
      still before one): removal is paused from referral until a negative decision.
    - Positive reasonable grounds: the recovery period (CETS Art. 13(1); NABA 2022 s.61) and,
      after it, until the conclusive grounds decision (CETS Art. 10(2): "until the
      identification process ... has been completed").
    - A negative conclusive grounds decision is not final while it may still be reconsidered;
      a reconsideration waiting for the authority's answer may reopen a protected stage.
    - Not protected: a negative reasonable grounds decision (no reasonable grounds, so Art. 10(2)
      never applied), a positive conclusive grounds decision (identification complete), a
      disqualification (NABA 2022 s.63: the protection ceases), withdrawn, closed.
    """
    match S(status):
        case S.AWAITING_REASONABLE_GROUNDS | S.RG_SUSPENDED:
            return Protection(True, Reason.AWAITING_REASONABLE_GROUNDS, source=NRM)
        case S.RECOVERY_PERIOD:
            if recovery_period_ends is not None and on <= recovery_period_ends:
                # Not `until`: the protection goes on after the recovery period, until the
                # conclusive grounds decision (the branch below).
                return Protection(
                    True,
                    Reason.RECOVERY_PERIOD,
                    source=NRM,
                    recovery_period_ends=recovery_period_ends,
                )
            return Protection(True, Reason.AWAITING_CONCLUSIVE_GROUNDS, source=NRM)
        case S.NEGATIVE_CONCLUSIVE_GROUNDS:
            if reconsideration_until is not None and on <= reconsideration_until:
                return Protection(
                    True, Reason.IDENTIFICATION_NOT_COMPLETE, reconsideration_until, NRM
                )
            return NOT_PROTECTED
        case S.RECONSIDERATION:
            return Protection(True, Reason.IDENTIFICATION_NOT_COMPLETE, source=NRM)
        case _:
            return NOT_PROTECTED
