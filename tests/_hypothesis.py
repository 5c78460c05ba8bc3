"""Hypothesis's profiles: few examples while you work, the full number, derandomised, in CI.

Chosen by `HYPOTHESIS_PROFILE` (`.ci/run` sets `ci`; unset, it is `local`), or for one run by
`pytest --hypothesis-profile=ci`. A property test that names its own `max_examples` keeps it
whatever the profile (the case state machine, the fuzzing); the others take the profile's.

- `local`: 25 examples a property, random as ever, failures remembered in `.hypothesis/` so
  the next run tries them first.
- `ci`: Hypothesis's own `ci` profile (derandomised, so every CI run tries the same examples;
  no deadline on a shared machine; no example database; a failure printed with the
  `@reproduce_failure` blob that replays it) with 100 examples, the number every property test
  ran before there were profiles.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("local", max_examples=25)
settings.register_profile("ci", settings.get_profile("ci"), max_examples=100)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "local"))
