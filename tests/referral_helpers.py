"""Answers for each page of the referral journey, and a driver that fills them in."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client
from django.urls import reverse

from opennrm.referrals.models import ReferralDraft

ADULT = {"under_18": "no"}
CHILD = {"under_18": "yes"}
AGE_DISPUTED = {"under_18": "not_sure", "reason_to_believe_child": "yes"}
CONSENTS = {
    "consents_to_referral": "yes",
    "consents_to_support": "yes",
    "explanation_version": "opennrm-consent-2026-1",
    "explanation_language": "sq",
}
REFUSES = {**CONSENTS, "consents_to_referral": "no", "consents_to_support": "no"}
PERSON = {
    "given_names": "Zorica Testova",
    "family_name": "Fictitious",
    "aliases": "Zee\nZori",
    "date_of_birth_day": "14",
    "date_of_birth_month": "3",
    "date_of_birth_year": "1999",
    "estimated_age": "",
    "sex": "female",
    "gender": "Feminine",
    "nationality_1": "AL",
    "nationality_2": "",
    "language_1": "sq",
    "language_2": "en",
    "interpreter_needed": "yes",
    "safe_contact": "Through the outreach worker only",
}
CHILD_PERSON = {
    **PERSON,
    "given_names": "Minor Example",
    "date_of_birth_day": "",
    "date_of_birth_month": "",
    "date_of_birth_year": "",
    "estimated_age": "15",
}
ANONYMOUS_PERSON = {"sex": "male", "estimated_age": "34", "nationality_1": "VN"}
EXPLOITATION = {
    "types": ["labour", "criminal"],
    "location": "uk",
    "places": "A car wash on the ring road",
    "started_month": "6",
    "started_year": "2025",
    "area": "Testshire",
    "in_immigration_detention": "no",
    # Asked of an adult only; a child's page does not have it (and ignores it).
    "under_18_when_began": "no",
}
ANONYMOUS_EXPLOITATION = {"types": ["labour"], "location": "both", "area": "Testshire"}
ACCOUNT = {
    "persons_account": "They took my passport and said I owed them money.",
    "responders_account": "Found during a welfare visit; several indicators of forced labour.",
}
NEEDS = {
    "needs": ["bed_tonight", "interpreter"],
    "details": "Must not be placed near the ring road",
}
NO_NEEDS = {"needs": ["none"], "details": ""}
NO_INDICATORS = {"none_observed": "on"}


def indicators_seen(*codes: str) -> dict[str, Any]:
    return {"observed": list(codes)}


def start(client: Client) -> ReferralDraft:
    response = client.post(reverse("referrals:draft_start"))
    assert response.status_code == 302, response
    public_id = response["Location"].rstrip("/").split("/")[-1]
    return ReferralDraft.objects.get(public_id=public_id)


def answer(client: Client, draft: ReferralDraft, slug: str, data: dict[str, Any]):
    return client.post(reverse("referrals:step", args=[draft.public_id, slug]), data)


def complete(client: Client, draft: ReferralDraft, pages: dict[str, dict[str, Any]]) -> None:
    for slug, data in pages.items():
        response = answer(client, draft, slug, data)
        assert response.status_code == 302, (
            slug,
            re.findall(
                r"govuk-error-message\">\s*<span[^>]*>[^<]*</span>([^<]*)<",
                response.content.decode(),
            ),
        )


def submit(client: Client, draft: ReferralDraft):
    return client.post(reverse("referrals:check_answers", args=[draft.public_id]))


ADULT_REFERRAL = {
    "age": ADULT,
    "consent": CONSENTS,
    "person": PERSON,
    "exploitation": EXPLOITATION,
    "indicators": NO_INDICATORS,
    "account": ACCOUNT,
    "needs": NEEDS,
}
CHILD_REFERRAL = {
    "age": AGE_DISPUTED,
    "person": CHILD_PERSON,
    "exploitation": EXPLOITATION,
    "indicators": NO_INDICATORS,
    "account": ACCOUNT,
    "needs": NO_NEEDS,
}
DUTY_TO_NOTIFY = {
    "age": ADULT,
    "consent": REFUSES,
    "person": ANONYMOUS_PERSON,
    "exploitation": ANONYMOUS_EXPLOITATION,
}


def draft_through_services(by, organisation, pages: dict[str, dict[str, Any]], evidence=()):
    """A draft answered page by page through the referral services, as the pages save it, with
    evidence files given as (name, bytes)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from opennrm.referrals import services, steps

    draft = services.draft_start(by=by, organisation=organisation)
    for slug, data in pages.items():
        draft = services.draft_save_answers(
            by=by, draft=draft, step=steps.STEP_BY_SLUG[slug], data=data
        )
    for name, content in evidence:
        services.evidence_add(
            by=by, draft=draft, upload=SimpleUploadedFile(name, content), max_bytes=10**6
        )
    return draft
