"""Demo linkage: a model, and one fictional woman referred twice, so that the decision maker's
"Earlier referrals" queue, the pair page with its waterfall chart, and the quality page have
something real to show.

The police refer her with her name in Cyrillic, as her passport has it; the charity that
sheltered her refers her too, with the name in Latin letters and the day and month of birth the
other way round. Both go through the referral services, so the check at submission
proposes the pair exactly as it would for anyone. It uses referrals and linkage (which the
referral services call), so it lives here, above the apps (ADR 0020).

The demo's model is trained on 300 synthetic people (60 of them referred twice): a demo has
too few referrals to learn from (`engine.MIN_TRAINING_RECORDS`), where a deployment's first
run trains on its own.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from opennrm.accounts.models import Organisation, User
from opennrm.linkage import engine, synthetic
from opennrm.linkage.models import CandidatePair, LinkageModel
from opennrm.linkage.prepare import prepare_each
from opennrm.linkage.services import linkage_model_store
from opennrm.referrals import services as referrals
from opennrm.referrals import steps
from opennrm.referrals.demo import CONSENT, EXPLOITATION, PERSON, observed

PLACES = "A nail bar on Station Parade, Northmoor, and the flat above it (fictional)"


def _pages(person: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {
        "age": {"under_18": "no"},
        "consent": CONSENT,
        # The referral demo's woman's details, but Ukrainian, exploited here, and where.
        "person": PERSON | {"nationality_1": "UA", "language_1": "uk"} | person,
        "exploitation": EXPLOITATION
        | {"location": "uk", "places": PLACES, "under_18_when_began": "no"},
        "indicators": {"observed": observed("AS")},
        "account": {
            "persons_account": "",
            "responders_account": "Found during a licensing visit (fictional demo case).",
        },
        "needs": {"needs": ["none"], "details": ""},
    }


# One fictional woman, as each organisation wrote her down.
BY_POLICE = {
    "given_names": "Олена",
    "family_name": "Прикладова",
    "date_of_birth_day": "4",
    "date_of_birth_month": "9",
    "date_of_birth_year": "1996",
}
BY_CHARITY = {
    "given_names": "Olena",
    "family_name": "Prykladova",
    "date_of_birth_day": "9",
    "date_of_birth_month": "4",
    "date_of_birth_year": "1996",
}


def _refer(by: User, organisation: Organisation, person: dict[str, str]) -> None:
    draft = referrals.draft_start(by=by, organisation=organisation)
    for slug, data in _pages(person).items():
        draft = referrals.draft_save_answers(
            by=by, draft=draft, step=steps.STEP_BY_SLUG[slug], data=data
        )
    referrals.referral_submit(by=by, draft=draft)


@transaction.atomic
def seed() -> None:
    if CandidatePair.objects.exists():
        return
    if not LinkageModel.objects.exists():
        truth = synthetic.people(300, duplicates=60, seed=99)
        linkage_model_store(
            splink_settings=engine.train(list(prepare_each(truth.records))),
            trained_on_records=len(truth.records),
        )
    police = Organisation.objects.get(name="Northmoor Constabulary")
    charity = Organisation.objects.get(name="Harbour Light Outreach")
    _refer(User.objects.get(email="responder@demo.opennrm.test"), police, BY_POLICE)
    _refer(User.objects.get(email="outreach@demo.opennrm.test"), charity, BY_CHARITY)
