"""What each jurisdiction's own support period is called, and how its end date is read.

A profile's `support_after_positive_reasonable_grounds` gives the days (stored on the case as
`Case.support_ends`); this says, per jurisdiction, what the case page (`cases.selectors`) and
the move-on reminders (`care.reminders`) call it, so that no jurisdiction's period is named
after another's Act. Pure data, no Django.

The two bundled periods read their date differently:

- Scotland (Human Trafficking and Exploitation (Scotland) Act 2015 s.9): 90 days, or until the
  conclusive decision if that is sooner. The date is the support's end while the recovery
  period runs; a conclusive decision cuts it short.
- Northern Ireland (Human Trafficking and Exploitation (Criminal Justice and Support for
  Victims) Act (Northern Ireland) 2015 s.18(3)-(4)): support runs until the conclusive
  decision, however late it comes; if that decision is positive and made within 45 days from
  the reasonable grounds decision, until the end of those 45 days. So the date is an end only
  after a positive conclusive decision (`until_conclusive_decision`). Since the Justice (Sexual
  Offences and Trafficking Victims) Act (Northern Ireland) 2022 s.21 the 45 days are a least
  ("or such longer period as the Department thinks necessary") and the section covers victims
  of slavery, servitude and forced labour too: the date is the Act's least, never a cut-off.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OwnSupport:
    # The case page's row for `Case.support_ends`.
    clock_label: str
    # The reminders' "<noun> ends on ...".
    noun: str
    # Under the case page's row: the rule, with its statute.
    note: str
    # True where support runs until the conclusive decision and the date is its end only after
    # a positive one (Northern Ireland); False where the date is the end while the recovery
    # period runs (Scotland).
    until_conclusive_decision: bool = False


# A deployment's own jurisdiction whose profile sets a support period but is not named here.
UNNAMED = OwnSupport(
    clock_label="Support under the jurisdiction's own law ends",
    noun="support under the jurisdiction's own law",
    note="",
)

BY_JURISDICTION: dict[str, OwnSupport] = {
    "scotland": OwnSupport(
        clock_label="Support under the Scottish Act ends",
        noun="support under the Scottish Act",
        note=(
            "90 days from the positive reasonable grounds decision for an adult, or until "
            "the conclusive grounds decision if that is sooner (Human Trafficking and "
            "Exploitation (Scotland) Act 2015 s.9)"
        ),
    ),
    "northern_ireland": OwnSupport(
        clock_label="Support under the Northern Ireland Act ends",
        noun="support under the Northern Ireland Act",
        note=(
            "For an adult, support runs until the conclusive grounds decision; if that is "
            "positive and made within 45 days from the positive reasonable grounds decision, "
            "until the end of those 45 days, this date, or longer where the Department of "
            "Justice thinks it necessary (Human Trafficking and Exploitation (Criminal Justice "
            "and Support for Victims) Act (Northern Ireland) 2015 s.18, as amended by the "
            "Justice (Sexual Offences and Trafficking Victims) Act (Northern Ireland) 2022 s.21)"
        ),
        until_conclusive_decision=True,
    ),
}


def own_support(jurisdiction: str) -> OwnSupport:
    """How the case page and the reminders name and read a jurisdiction's own support period."""
    return BY_JURISDICTION.get(jurisdiction, UNNAMED)
