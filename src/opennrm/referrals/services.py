"""Every write of the referral journey: drafts, answers, evidence, and submission."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from opennrm.accommodation.services import placement_request_for_referral
from opennrm.accounts.actor import DECIDERS, members_with_role, memberships_in_force, role_givers
from opennrm.accounts.models import Organisation, User
from opennrm.accounts.roles import OrganisationKind, Role
from opennrm.api.idempotency import KeyReused
from opennrm.api.models import IdempotencyKey, ReferralIdempotencyKey
from opennrm.audit.services import audit_record
from opennrm.cases.choices import AgeGroup, ExploitationAgeGroup
from opennrm.cases.models import Case
from opennrm.cases.selectors import referrers_stand_in
from opennrm.cases.services import case_event_record, case_open, case_rows, first_events
from opennrm.decisions.models import Decision, DecisionState
from opennrm.lib.files import EXTENSIONS, UploadRefused, stored_files_delete, upload_checked
from opennrm.lib.references import ReferenceTaken, new_reference, unused_reference
from opennrm.linkage.services import submission_check
from opennrm.notifications.models import Notification
from opennrm.notifications.services import Delivery, deliver, deliver_all, emails_in_one_task
from opennrm.policy.clock import reasonable_grounds_due
from opennrm.safety.services import safety_record_at_referral
from opennrm.screening.models import IndicatorCatalogue, Screening
from opennrm.screening.selectors import active_catalogue, screening_referred
from opennrm.screening.services import screening_for_referral, screening_summary

from . import selectors, steps
from .forms import (
    PRESUMED_CHILD_REFUSED,
    answer_by_problem,
    intelligence_places,
    intelligence_vehicles,
)
from .models import (
    DraftStatus,
    DutyToNotifyIntelligence,
    DutyToNotifyReport,
    EvidenceFile,
    InformationRequest,
    InformationRequestStatus,
    ReferralAddition,
    ReferralDraft,
)
from .routing import competent_authority_for

logger = logging.getLogger(__name__)

# Said on the task list as soon as the consent page says "No" (`steps.Route.NOTHING_TO_SUBMIT`),
# and again if such a draft is submitted.
NOTHING_TO_SUBMIT = (
    "An adult who does not consent cannot be referred, and your organisation does not carry the "
    "duty to notify (Modern Slavery Act 2015 section 52: public authorities in England and Wales "
    "only), so there is nothing to submit. Record what you found as your organisation's own "
    "procedures require. You can delete this draft."
)


class ScreeningReferred(ValidationError):
    """A referral was already made or started from this screening: `draft` is the one started
    (None when only a case records the screening)."""

    def __init__(self, message: str, draft: ReferralDraft | None) -> None:
        super().__init__(message)
        self.draft = draft


@transaction.atomic
def draft_start(
    *, by: User, organisation: Organisation, screening: Screening | None = None
) -> ReferralDraft:
    """Start a draft; from a stand-alone screening, with what the screening answered (the age
    group, the kind of exploitation, the indicators seen, and the catalogue version they were
    seen in) already filled in, and the screening kept as the draft's source.

    A screening is one person: raises `ScreeningReferred` if a referral was already started or
    made from it (a second one would refer the same person twice, or carry one person's answers
    into another's referral)."""
    if screening is not None:
        _check_not_referred(screening)
    answers = _answers_from(screening) if screening is not None else {}
    draft = ReferralDraft.objects.create(
        created_by=by,
        organisation=organisation,
        answers=answers,
        source_screening=screening,
        indicators_catalogue=screening.catalogue if screening is not None else None,
    )
    audit_record(
        by=by,
        action="referral.draft_started",
        obj=draft,
        organisation=organisation,
        detail={"from_screening": screening.pk} if screening is not None else {},
    )
    return draft


def _check_not_referred(screening: Screening) -> None:
    # Locked: two first responders pressing "Start a referral" at once start one draft.
    Screening.objects.select_for_update().filter(pk=screening.pk).first()
    started = selectors.draft_from_screening(screening)
    if started is not None:
        raise ScreeningReferred(
            f"{started.created_by.full_name} has already started a referral from this screening "
            f"on {timezone.localtime(started.created_at):%-d %B %Y}"
            + (", and it has been submitted" if started.status != DraftStatus.DRAFT else "")
            + ". One screening is one person: it can start only one referral.",
            started,
        )
    if screening_referred(screening):
        raise ScreeningReferred(
            "This screening has already been referred. One screening is one person: it can "
            "start only one referral.",
            None,
        )


# The screening's "child" is asked "if there is any reason to believe they may be under 18": the
# age page's "not sure, with reason to believe they may be under 18", treated as a child until
# their age is assessed (a referrer who knows they are under 18 says so), never a certain child.
SCREENED_AS_CHILD = {"under_18": "not_sure", "reason_to_believe_child": "yes"}


def _answers_from(screening: Screening) -> steps.Answers:
    exploitation = "sexual" if screening.list_key.endswith("_sexual") else "labour"
    codes = list(screening.observed_codes)
    return {
        "age": dict(SCREENED_AS_CHILD) if screening.is_child else {"under_18": "no"},
        "exploitation": {"types": [exploitation]},
        "indicators": {"observed": codes} if codes else {"none_observed": "on"},
    }


# A person taken in at an operation as an adult may say on the age page that they are under 18
# (or that their age is disputed): from then they are a child, and the operation's children's
# services must hear of it as they would have at reception. Only `operations` knows who they
# are, and referrals never imports it: it registers, from its `AppConfig.ready()`, what is done
# with the draft, returning how many were told (None when nobody needed telling: told before).
# A list that `operations` appends to: a function here to register with would be taken for one
# of this app's services, each of which records an audit event.
ChildFound = Callable[[ReferralDraft], int | None]

CHILD_FOUND: list[ChildFound] = []


def _child_found(draft: ReferralDraft, was_child: bool) -> dict[str, int]:
    """For the audit event of a save: how many children's services people were told that a
    person taken in as an adult is a child, when this save is what said so. From then the draft
    is presumed a child, as if taken in as one: children's services have been told so, and an
    answer changed back to adult cannot undo it (only an age assessment can), nor let the draft
    be deleted as an adult who declined."""
    if draft.operation_id is None or was_child or not selectors.draft_treats_as_child(draft):
        return {}
    told = [n for listener in CHILD_FOUND if (n := listener(draft)) is not None]
    if not told:
        return {}
    draft.presumed_child = True
    draft.answers = {**draft.answers, steps.TAKEN_IN: {"presumed_child": True}}
    draft.save(update_fields=["presumed_child", "answers", "updated_at"])
    return {"children_services_told": sum(told)}


@transaction.atomic
def draft_save_answers(
    *,
    by: User,
    draft: ReferralDraft,
    step: steps.Step,
    data: dict[str, Any],
    autosave: bool = False,
) -> ReferralDraft:
    """Save a page's answers exactly as given, valid or not, so nothing typed is ever lost.

    If the answers make this a duty to notify report (an adult who does not consent), or leave
    nothing to submit (the same, at an organisation without the duty: `steps.NO_DUTY_TO_NOTIFY`,
    kept on the answers as the organisation now is), every identifying answer and file is
    deleted when a page is saved with "Save and continue": the report must never hold them. An
    `autosave` (the page's script, on every change) deletes nothing: a mistaken tap on "No"
    must not lose the referral before it is confirmed, and the submission of a report deletes
    whatever is left (`_report`). Raises `AlreadySubmitted` for a
    draft submitted meanwhile (in another tab). A draft
    presumed a child (taken in as a child or as age disputed) keeps that mark in its answers
    (`steps.TAKEN_IN`), so it is never routed as an adult, whatever the age page says. A person
    taken in at an operation as an adult whose age page first says they are a child: the
    operation's children's services are told, once (`CHILD_FOUND`).
    """
    locked = (
        ReferralDraft.objects.select_related("organisation")
        .select_for_update(of=("self",))
        .get(pk=draft.pk)
    )
    if locked.status != DraftStatus.DRAFT:
        raise AlreadySubmitted(locked)
    was_child = selectors.draft_treats_as_child(locked)
    answers = dict(locked.answers)
    answers[step.slug] = data
    if locked.presumed_child:
        # Read by every step below: whatever is answered, never an adult's route.
        answers[steps.TAKEN_IN] = {"presumed_child": True}
    # Read by the route: without the duty to notify, a refusal leaves nothing to submit.
    answers = steps.with_organisation(
        answers, locked.organisation.kind, locked.organisation.jurisdiction
    )
    purged = False
    refused = steps.refused(answers)
    if refused and autosave:
        # Not confirmed: the identifying answers are kept until a page is saved, and the
        # report's smaller pages must not overwrite them (answering "Yes" again gets them back).
        answers[step.slug] = {**(locked.answers.get(step.slug) or {}), **data}
    elif refused:
        kept = steps.anonymous_answers(answers)
        purged = kept != answers or locked.evidence.exists()
        answers = kept
        for evidence in locked.evidence.all():
            evidence.file.delete(save=False)
        locked.evidence.all().delete()
    locked.answers = answers
    fields = ["answers", "updated_at"]
    if step.slug == "indicators" and locked.indicators_catalogue_id is None:
        # The version the page was shown from (`selectors.draft_catalogue`): submission checks
        # the ticks against it, whatever version is loaded meanwhile (ADR 0007).
        locked.indicators_catalogue = active_catalogue()
        fields.append("indicators_catalogue")
    locked.save(update_fields=fields)
    audit_record(
        by=by,
        action="referral.answers_saved",
        obj=locked,
        organisation=locked.organisation,
        detail={"step": step.slug, "identifying_answers_deleted": purged}
        | _child_found(locked, was_child),
    )
    return locked


@transaction.atomic
def draft_delete(*, by: User, draft: ReferralDraft) -> None:
    """Delete an unsubmitted draft: an adult who declines both a referral and a report, or a
    mistake. Refused for a person taken in at an operation who is treated as a child or as age
    disputed (as taken in, or by the age page since): a child does not consent to a referral
    and so cannot decline one, and deleted, they would count as an adult who declined
    (`operations.selectors.standing_of`)."""
    # Read again, locked: a save in another tab may have just made the person a child.
    draft = (
        ReferralDraft.objects.select_related("organisation")
        .select_for_update(of=("self",))
        .get(pk=draft.pk)
    )
    if draft.status != DraftStatus.DRAFT:
        raise ValidationError("A submitted referral cannot be deleted")
    if draft.presumed_child:
        raise ValidationError(
            "This person was taken in as a child or with their age disputed, or their referral "
            "has said so since, and children's services are told: the draft cannot be deleted. "
            "Complete and submit the referral"
        )
    if draft.operation_id is not None and selectors.draft_treats_as_child(draft):
        raise ValidationError(
            "This person was taken in at an operation and the age page says they are under 18 "
            "or their age is disputed: a child cannot decline a referral, so the draft cannot "
            "be deleted. Complete and submit the referral"
        )
    for evidence in draft.evidence.all():
        evidence.file.delete(save=False)
    audit_record(by=by, action="referral.draft_deleted", obj=draft, organisation=draft.organisation)
    draft.delete()


@transaction.atomic
def evidence_add(
    *, by: User, draft: ReferralDraft, upload: UploadedFile, max_bytes: int
) -> EvidenceFile:
    """Store an evidence file after checking its size and, from its content, its type."""
    # Read again, locked: a page saved in another tab may have just made the draft a duty to
    # notify report (an adult who does not consent), which deletes every file and must hold
    # none; the save holds the same lock, so one waits for the other.
    draft = (
        ReferralDraft.objects.select_for_update(of=("self",))
        .select_related("organisation")
        .get(pk=draft.pk)
    )
    if draft.status != DraftStatus.DRAFT:
        raise ValidationError({"file": "This referral has already been submitted"})
    if steps.refused(draft.answers):
        raise ValidationError(
            {"file": "No file is kept for an adult who does not consent to being referred"}
        )
    try:
        content_type, sha256, name = upload_checked(upload, max_bytes)
    except UploadRefused as refused:
        raise ValidationError({"file": str(refused)}) from None
    evidence = EvidenceFile(
        draft=draft,
        uploaded_by=by,
        # Listed and downloaded under this name: its extension is the type found, whatever
        # the uploader's computer called it.
        original_name=name,
        content_type=content_type,
        size=upload.size or 0,
        sha256=sha256,
    )
    # Written once everything that can refuse it has been checked, the draft locked; the stored
    # name is random: the original name may identify someone.
    evidence.file.save(new_reference("EV", 12) + EXTENSIONS[content_type], upload, save=False)
    try:
        evidence.save()
        audit_record(
            by=by,
            action="referral.evidence_added",
            obj=evidence,
            organisation=draft.organisation,
            detail={"content_type": content_type, "size": upload.size},
        )
    except BaseException:
        # The transaction rolls back: no row will point at the file, so it goes too.
        stored_files_delete([evidence])
        raise
    return evidence


@transaction.atomic
def evidence_remove(*, by: User, evidence: EvidenceFile) -> None:
    draft = evidence.draft
    if draft is None or draft.status != DraftStatus.DRAFT:
        raise ValidationError("Evidence of a submitted referral cannot be removed")
    evidence.file.delete(save=False)
    audit_record(
        by=by,
        action="referral.evidence_removed",
        obj=evidence,
        organisation=draft.organisation,
    )
    evidence.delete()


@dataclass(frozen=True)
class Submitted:
    case: Case | None = None
    report: DutyToNotifyReport | None = None


class AlreadySubmitted(ValidationError):
    """A save of a draft submitted meanwhile (in another tab): `draft` as it now is."""

    def __init__(self, draft: ReferralDraft) -> None:
        super().__init__("This referral has already been submitted")
        self.draft = draft


class IncompleteReferral(ValidationError):
    def __init__(self, step: steps.Step) -> None:
        super().__init__(f"Complete '{step.title}' before submitting")
        self.step = step


# Five references in a row taken among 10**12 mean a fault, not bad luck.
REFERENCE_DRAWS = 5


def referral_submit(
    *, by: User, draft: ReferralDraft, check_earlier_referrals: bool = True
) -> Submitted:
    """Turn a complete draft into a case (or, for an adult without consent, an anonymous duty to
    notify report). Submitting the same draft twice gives the same result, never a second case.

    Then, for a case opened now, the check for earlier referrals of the same person
    (`earlier_referrals_check`), once the submission's transaction has ended: inside it, the
    check held the audit chain's lock, which every audited write in the deployment waits for,
    for as long as it compared (tens of milliseconds with a million referrals stored). A caller
    that submits inside a transaction of its own passes `check_earlier_referrals=False` and
    runs the check after its commit.
    """
    for _ in range(REFERENCE_DRAWS):
        try:
            submitted, opened = _submit(by=by, draft=draft)
            break
        except ReferenceTaken:
            continue  # the whole submission was rolled back: again, with another reference
    else:
        raise IntegrityError(f"{REFERENCE_DRAWS} new case references in a row were taken")
    if opened and check_earlier_referrals:
        earlier_referrals_check(submitted)
    return submitted


@transaction.atomic
def _submit(*, by: User, draft: ReferralDraft) -> tuple[Submitted, bool]:
    """The submission; whether it opened a case just now."""
    # The draft alone is locked (its organisation is read, not locked: two first responders of
    # one force submit at once), knowing whether it has evidence to move to the case.
    locked = (
        ReferralDraft.objects.select_for_update(of=("self",))
        .select_related("organisation", "indicators_catalogue")
        .annotate(has_evidence=Exists(EvidenceFile.objects.filter(draft=OuterRef("pk"))))
        .get(pk=draft.pk)
    )
    if locked.status == DraftStatus.SUBMITTED:
        return Submitted(case=locked.case), False
    if locked.status == DraftStatus.REPORTED:
        return Submitted(report=locked.report), False
    # Read once: the indicators are checked against the version the screening then records:
    # the one the indicators page was answered from, not one loaded since (ADR 0007).
    catalogue = selectors.draft_catalogue(locked)
    # Before the pages' checks, whose age page refuses the same answer: the reason, not only
    # which page to finish.
    if locked.presumed_child and steps.answered_age_group(locked.answers) == AgeGroup.ADULT:
        raise ValidationError(PRESUMED_CHILD_REFUSED)
    if steps.route(locked.answers) == steps.Route.NOTHING_TO_SUBMIT:
        raise ValidationError(NOTHING_TO_SUBMIT)
    try:
        data = steps.cleaned(locked.answers, catalogue=catalogue)
    except KeyError as missing:
        raise IncompleteReferral(steps.STEP_BY_SLUG[missing.args[0]]) from None
    submitted_at = timezone.now()
    if steps.route(locked.answers) == steps.Route.DUTY_TO_NOTIFY:
        return Submitted(report=_report(by, locked, data, submitted_at)), False
    return Submitted(case=_open_case(by, locked, data, submitted_at, catalogue)), True


def _report(
    by: User, draft: ReferralDraft, data: dict[str, dict[str, Any]], submitted_at: Any
) -> DutyToNotifyReport:
    organisation = draft.organisation
    # A draft whose refusal was saved before its organisation's kind or jurisdiction changed.
    if not steps.carries_duty_to_notify(organisation.kind, organisation.jurisdiction):
        raise ValidationError(NOTHING_TO_SUBMIT)
    age = data["person"]["estimated_age"]
    report = DutyToNotifyReport.objects.create(
        reference=unused_reference(DutyToNotifyReport, "DTN"),
        organisation=organisation,
        submitted_by=by,
        submitted_at=submitted_at,
        jurisdiction=organisation.jurisdiction,
        area=data["exploitation"]["area"],
        sex=data["person"]["sex"],
        age_band=_age_band(age),
        nationalities=[data["person"]["nationality_1"]],
        exploitation_types=data["exploitation"]["types"],
        exploitation_location=data["exploitation"]["location"],
    )
    told = _intelligence_record(report, data.get("intelligence") or {})
    if draft.has_evidence:  # type: ignore[attr-defined]
        # A report is anonymous: no file of the person goes with it, whatever came before.
        _delete_files_on_commit(draft.evidence.all())
        draft.evidence.all().delete()
    draft.status = DraftStatus.REPORTED
    draft.report = report
    draft.answers = {}
    # Anonymous: the report keeps no link to the screening, which may then start a referral
    # if the person later consents.
    draft.source_screening = None
    draft.save(update_fields=["status", "report", "answers", "source_screening", "updated_at"])
    audit_record(
        by=by,
        action="referral.duty_to_notify_reported",
        obj=report,
        organisation=organisation,
        detail={"intelligence": told is not None, "notified": told or {}},
    )
    return report


def _intelligence_record(report: DutyToNotifyReport, data: dict[str, Any]) -> dict[str, int] | None:
    """Keep what the report tells about the exploiters (encrypted), and tell the police of the
    report's area that it is there, never what it says; how many were told, by organisation.
    None when nothing was given."""
    places, vehicles = intelligence_places(data), intelligence_vehicles(data)
    exploiters, dates = (data.get("exploiters") or "").strip(), (data.get("dates") or "").strip()
    if not (places or vehicles or exploiters or dates):
        return None
    intelligence = DutyToNotifyIntelligence.objects.create(
        report=report, places=places, exploiters=exploiters, vehicles=vehicles, dates=dates
    )
    routed = selectors.police_for(report)
    intelligence.routed_to.set(routed)
    url = reverse("referrals:report", args=[report.reference])
    told = {}
    for organisation in routed:
        roles = (
            DECIDERS
            if organisation.kind == OrganisationKind.COMPETENT_AUTHORITY
            else {Role.FIRST_RESPONDER}
        )
        told[str(organisation.pk)] = len(
            deliver(
                recipients=_members([organisation], roles),
                kind="report.intelligence",
                url=url,
                subject=f"Intelligence in duty to notify report {report.reference}",
                body=f"A duty to notify report about exploitation in {report.area} carries "
                "intelligence for the police: places, descriptions of the exploiters, vehicles "
                "or dates. It does not identify the person. Read it in OpenNRM.",
                # The organisation's news: e-mailed only to someone still in force there when
                # the worker sends it, not to a member who has moved to another force.
                organisation=organisation,
            )
        )
    return told


def _age_band(age: int) -> str:
    for upper, band in ((24, "18-24"), (34, "25-34"), (44, "35-44"), (54, "45-54"), (64, "55-64")):
        if age <= upper:
            return band
    return "65+"


def _open_case(
    by: User,
    draft: ReferralDraft,
    data: dict[str, dict[str, Any]],
    submitted_at: Any,
    catalogue: IndicatorCatalogue,
) -> Case:
    organisation = draft.organisation
    person_data, exploitation = data["person"], data["exploitation"]
    group = steps.age_group(draft.answers)
    assert group is not None, "cleaned() has checked the age page"  # noqa: S101
    in_detention = exploitation["in_immigration_detention"] == "yes"
    # The law of the nation the person is in governs the case (its policy profile, support,
    # bank holidays, competent authority, the release counting it), not the referrer's: a
    # UK-wide unit set up as England and Wales may refer a person found in Glasgow. The
    # referrer's only for an area the service cannot place.
    jurisdiction = steps.area_jurisdiction(exploitation["area"]) or organisation.jurisdiction
    authority = competent_authority_for(
        jurisdiction=jurisdiction,
        in_immigration_detention=in_detention,
        age_group=group,
    )
    list_key = steps.screening_list_key(draft.answers)
    at_exploitation = steps.age_group_at_exploitation(draft.answers)
    screening = screening_for_referral(
        by=by,
        organisation=organisation,
        list_key=str(list_key),
        # The list fits the person now; the rule, the age when the exploitation began: a
        # person exploited as a child needs no means shown (Palermo 3(c); CETS 4(c); ADR 0042).
        is_child=group != AgeGroup.ADULT,
        exploited_as_child=at_exploitation == ExploitationAgeGroup.CHILD,
        observed_codes=data["indicators"]["observed"],
        catalogue=catalogue,
        started_from=draft.source_screening,
    )
    born: date | None = person_data["date_of_birth"]
    consent = data.get("consent", {})
    needs = data["needs"]
    # Not looked up first (a query for each submission): `case_open` refuses a taken one.
    reference = new_reference("NRM")
    case = case_open(
        case_rows(
            sex=person_data["sex"],
            gender=person_data.get("gender") or "",
            age_at_referral=person_data.get("age"),
            age_is_estimated=born is None,
            nationalities=[
                c for c in (person_data["nationality_1"], person_data.get("nationality_2")) if c
            ],
            languages=[c for c in (person_data["language_1"], person_data.get("language_2")) if c],
            interpreter_needed=person_data["interpreter_needed"] == "yes",
            given_names=person_data["given_names"],
            family_name=person_data.get("family_name", ""),
            aliases=[
                line.strip() for line in person_data.get("aliases", "").splitlines() if line.strip()
            ],
            date_of_birth=born,
            safe_contact=person_data.get("safe_contact", ""),
            reference=reference,
            screening_id=screening.pk,
            referring_organisation_id=organisation.pk,
            referred_by_id=by.pk,
            competent_authority_id=authority.pk,
            jurisdiction=jurisdiction,
            area=exploitation["area"],
            age_group=group,
            age_group_at_exploitation=at_exploitation,
            exploitation_types=exploitation["types"],
            exploitation_location=exploitation["location"],
            exploitation_started=exploitation.get("started"),
            in_immigration_detention=in_detention,
            consent_to_referral=(consent["consents_to_referral"] == "yes") if consent else None,
            consent_to_support=(consent["consents_to_support"] == "yes") if consent else None,
            consent_explanation_version=consent.get("explanation_version", ""),
            consent_explanation_language=consent.get("explanation_language", ""),
            submitted_at=submitted_at,
            reasonable_grounds_due=reasonable_grounds_due(
                timezone.localdate(submitted_at), jurisdiction
            ),
            persons_account=data["account"]["persons_account"],
            responders_account=data["account"]["responders_account"],
            exploitation_places=exploitation.get("places", ""),
            immediate_needs_details=needs.get("details", ""),
            events=first_events(
                at=submitted_at,
                referred_by_id=by.pk,
                referrer_name=organisation.name,
                authority_name=authority.name,
                area=exploitation["area"],
                child=group != AgeGroup.ADULT,
                # A child's needs go to the local authority instead (safeguarding, ADR 25); an
                # adult who refused support has none raised (ADR 15, stop 37).
                placement_requested=bool(needs["needs"])
                and group == AgeGroup.ADULT
                and bool(consent)
                and consent["consents_to_support"] == "yes",
            ),
        )
    )
    case.referred_by = by  # known: those who read it next (a child's task) need not ask
    if draft.has_evidence:  # type: ignore[attr-defined]
        draft.evidence.update(case=case)
    # Whoever is told of the new case (the authority, the referrer, children's services), their
    # e-mails go in one task of the worker, written before the audit event takes the chain's
    # lock, which every audited write waits for until this transaction commits.
    with emails_in_one_task():
        # The safety profile first: the placement request starts from it.
        safety_told = safety_record_at_referral(by=by, case=case, answers=data.get("safety"))
        told = {
            **_record_and_notify(
                by, case, authority, needs["needs"], operation_id=draft.operation_id
            ),
            **safety_told,
        }
    draft.status = DraftStatus.SUBMITTED
    draft.case = case
    draft.answers = {}
    draft.save(update_fields=["status", "case", "answers", "updated_at"])
    audit_record(
        by=by,
        action="referral.submitted",
        obj=case,
        organisation=organisation,
        detail={
            "reference": case.reference,
            "routed_to": authority.pk,
            "notified": told,
            "screening": {"id": screening.pk, **screening_summary(screening)},
        },
    )
    return case


def earlier_referrals_check(submitted: Submitted) -> None:
    """Propose possible earlier referrals of the same person to the competent authority
    (ADR 48); the first responder is told nothing of them. The check must never stop a
    referral, which is stored already: if it fails, its own transaction is rolled back, the
    failure logged, and the next linkage run finds what it would have."""
    case = submitted.case
    if case is None:
        return
    try:
        with transaction.atomic():
            submission_check(case=case)
    except Exception:
        logger.exception("The check for earlier referrals failed for case %s", case.pk)


def _members(organisations: Any, roles: Iterable[Role]) -> list[User]:
    memberships = (
        members_with_role(None, roles).filter(organisation__in=organisations).select_related("user")
    )
    return [m.user for m in memberships]


def _record_and_notify(
    by: User,
    case: Case,
    authority: Organisation,
    needs: list[str],
    *,
    operation_id: int | None = None,
) -> dict[str, int]:
    """The case's placement request, and everyone who must know (its first timeline entries,
    which say so, are written with the case: `cases.services.first_events`)."""
    if needs:
        placement_request_for_referral(
            case=case, needs=needs, at=case.submitted_at, operation_id=operation_id
        )
    url = reverse("cases:detail", args=[case.reference])
    kind_of_referral = "a child" if case.is_child else "an adult"
    deciders, leads = _deciders_and_leads(authority, case)
    deliveries = [
        Delivery(
            deciders,
            "case.received",
            f"New referral {case.reference}",
            f"A referral of {kind_of_referral} has been sent to {authority.name} for a "
            "reasonable grounds decision.",
            url=url,
            case=case,
        ),
        Delivery(
            [by],
            "case.submitted",
            f"Referral {case.reference} submitted",
            f"Your referral has been received and sent to {authority.name}.",
            url=url,
            case=case,
        ),
    ]
    if case.is_child:
        deliveries.append(
            Delivery(
                leads,
                "case.child_referred",
                f"Child referred in {case.area}: {case.reference}",
                f"A child in {case.area} has been referred as a potential victim of "
                "trafficking. Safeguard first: check the case and act today.",
                url=url,
                case=case,
            )
        )
    told = deliver_all(deliveries)
    counts = {"authority": len(told[0]), "referrer": len(told[1])}
    if case.is_child:
        counts["safeguarding"] = len(told[2])
    return counts


def _deciders_and_leads(authority: Organisation, case: Case) -> tuple[list[User], list[User]]:
    """The authority's decision makers and, for a child, the safeguarding leads of the child's
    area (its local authorities and child guardian service), in one read."""
    wanted = Q(organisation=authority, role__in=list(DECIDERS))
    if case.is_child:
        wanted |= Q(
            role=Role.SAFEGUARDING_LEAD,
            organisation__area=case.area,
            organisation__kind__in=[
                OrganisationKind.LOCAL_AUTHORITY,
                OrganisationKind.CHILD_GUARDIAN_SERVICE,
            ],
        )
    deciders: list[User] = []
    leads: list[User] = []
    for membership in memberships_in_force().filter(wanted).select_related("user"):
        (deciders if membership.organisation_id == authority.pk else leads).append(membership.user)
    return deciders, leads


def _delete_files_on_commit(evidence: Any) -> None:
    """Delete the stored files of `evidence` (a queryset) once the transaction has committed:
    until then the rows may come back."""
    files = [(item.file.storage, item.file.name) for item in evidence if item.file.name]

    def delete_files() -> None:
        for storage, name in files:
            try:
                storage.delete(name)
            except OSError:
                # The row is gone, so nothing can serve the file; say so for the operator.
                logger.warning("could not delete an erased evidence file", extra={"file": name})

    transaction.on_commit(delete_files)


def referral_records_pseudonymise(case_ids: Sequence[int]) -> dict[str, int]:
    """Delete the evidence of these cases (rows now, files once committed) and empty their
    drafts' answers and the fingerprint their API idempotency key keeps. Called only inside
    `privacy.services`' erasure, whose audit event covers it."""
    evidence = EvidenceFile.objects.filter(Q(case_id__in=case_ids) | Q(draft__case_id__in=case_ids))
    _delete_files_on_commit(evidence)
    removed = {"evidence_files": evidence.delete()[0]}
    ReferralDraft.objects.filter(case_id__in=case_ids).update(answers={})
    # What was asked and added after submission is free text about the person: its words go,
    # who asked or added what when stays.
    removed["information_requests"] = InformationRequest.objects.filter(
        case_id__in=case_ids
    ).update(question="")
    removed["referral_additions"] = ReferralAddition.objects.filter(case_id__in=case_ids).update(
        text=""
    )
    # A referral sent through the API with an Idempotency-Key keeps a keyed hash of all its
    # answers, the name included (`api_submission._fingerprint`): it goes with them. The key
    # stays, so a retry with it is still refused rather than making a second case.
    removed["referral_idempotency_fingerprints"] = (
        ReferralIdempotencyKey.objects.filter(draft__case_id__in=case_ids)
        .exclude(fingerprint="")
        .update(fingerprint="")
    )
    # So do the keyed hashes of the requests for information and additions sent with one
    # (`api.idempotency`): each hashes the words just emptied.
    removed["api_idempotency_fingerprints"] = (
        IdempotencyKey.objects.filter(case_id__in=case_ids)
        .exclude(fingerprint="")
        .update(fingerprint="")
    )
    return removed


def drafts_unsubmitted_delete(*, today: date) -> int:
    """Delete drafts never submitted, untouched for the draft period and whose author was told
    at least the notice period ago (`drafts_deletion_warn`), with their evidence; how many.
    Called only by `privacy.services.retention_apply`, whose audit event covers it."""
    drafts = selectors.drafts_to_delete(today)
    evidence = EvidenceFile.objects.filter(draft__in=drafts)
    _delete_files_on_commit(evidence)
    deleted = drafts.count()
    evidence.delete()
    drafts.delete()
    return deleted


def _draft_holder_can(draft: ReferralDraft) -> str:
    """What the draft's holder can still do with it: "continue" it (a first responder of its
    organisation); "hand over" a draft started at an operation's reception (anyone still
    holding a role there: a safeguarding lead who took a child in hands it to a first
    responder, ADR 0043), or "no receiver" when the organisation has no first responder to
    take it; or "" (they left, or their account is off)."""
    if not draft.created_by.is_active:
        return ""
    roles = memberships_in_force().filter(
        organisation_id=draft.organisation_id, user_id=draft.created_by_id
    )
    if roles.filter(role=Role.FIRST_RESPONDER).exists():
        return "continue"
    # Only those who may open the hand-over page (ADR 0043's receptionists) can hand it over.
    receptionist = roles.filter(role=Role.SAFEGUARDING_LEAD).exists()
    if getattr(draft, "reception_record", None) is None or not receptionist:
        return ""
    if members_with_role(draft.organisation_id, {Role.FIRST_RESPONDER}).exists():
        return "hand over"
    return "no receiver"


def _deletion_notices(draft: ReferralDraft, today: date) -> list[Delivery]:
    """What `drafts_deletion_warn` tells of one draft, and to whom (`_draft_holder_can`)."""
    deleted_on = f"{selectors.draft_deleted_on(draft, today):%-d %B %Y}"
    started = f"{timezone.localdate(draft.created_at):%-d %B %Y}"
    child = selectors.draft_treats_as_child(draft)
    subject = f"An unfinished referral {'about a child ' if child else ''}will be deleted on "
    subject += deleted_on
    why = (
        " A child who may have been trafficked is not referred until it is submitted: submit "
        "it, or tell your safeguarding lead why it will not be."
        if child
        else ""
    )
    organisation = draft.organisation.name
    holder = draft.created_by.get_full_name() or draft.created_by.email
    holder_id = draft.created_by_id
    members = reverse("accounts:member_list", args=[draft.organisation_id])
    can = _draft_holder_can(draft)
    record = getattr(draft, "reception_record", None)
    if not can:
        told = [
            Delivery(
                role_givers(draft.organisation_id),
                "referrals.draft_deletion_author_gone",
                subject,
                f"{holder} started a referral for {organisation} on {started} and can no longer "
                "complete it, so nobody can finish it. Give them the first responder role "
                f"again to let them finish it before {deleted_on}; otherwise it will be deleted "
                f"then.{why}",
                url=members,
            )
        ]
        if record is not None:
            # A reception draft: the organisation's safeguarding leads may hand it over.
            leads = members_with_role(draft.organisation_id, {Role.SAFEGUARDING_LEAD})
            told.append(
                Delivery(
                    [m.user for m in leads.select_related("user") if m.user_id != holder_id],
                    "referrals.draft_deletion_holder_gone",
                    subject,
                    f"{holder} holds a referral started for {organisation} on {started} at an "
                    "operation's reception and can no longer complete it or hand it over. As a "
                    f"safeguarding lead of {organisation} you can hand it to a first responder "
                    f"before {deleted_on}; otherwise it will be deleted then.{why}",
                    url=reverse(
                        "operations:reception_hand_over",
                        args=[record.operation_id, record.sequence],
                    ),
                )
            )
        return told
    act, url = (
        ("continue it", reverse("referrals:task_list", args=[draft.public_id]))
        if can == "continue"
        else (
            "hand it over to a first responder who completes it",
            reverse("operations:reception_hand_over", args=[record.operation_id, record.sequence])
            if record is not None
            else "",
        )
    )
    if can == "no receiver":
        act += f" ({organisation} has no first responder now: ask your administrator to give "
        act += "someone the role)"
    told = [
        Delivery(
            [draft.created_by],
            "referrals.draft_deletion",
            subject,
            f"The referral you hold, started on {started} for {organisation}, has not been "
            f"saved since {timezone.localdate(draft.updated_at):%-d %B %Y}. It will be deleted "
            f"on {deleted_on} unless you {act}.{why}",
            url=url,
        )
    ]
    if can == "no receiver":
        told.append(
            Delivery(
                role_givers(draft.organisation_id),
                "referrals.draft_deletion_no_first_responder",
                subject,
                f"{holder} holds a referral started for {organisation} on {started} at an "
                f"operation's reception, which only a first responder can complete, and "
                f"{organisation} has none now. Give a member the first responder role so that "
                f"{holder} can hand it to them before {deleted_on}; otherwise it will be deleted "
                f"then.{why}",
                url=members,
            )
        )
    return told


def drafts_deletion_warn(*, today: date) -> int:
    """Tell the holder of each draft that retention will delete (`selectors.drafts_to_warn`)
    the day it will, unless they save it: a referral left unfinished is a person not yet
    referred, and a child's most of all (its notice says so). If the holder no longer refers for
    the organisation, nobody can open the draft: its administrators are told instead, who can
    give them the role back (`_deletion_notices`). Names no person. How many drafts; called only
    by `privacy.services.retention_apply`, whose audit event covers it."""
    drafts = list(
        selectors.drafts_to_warn(today).select_related(
            "created_by", "organisation", "reception_record"
        )[:5000]
    )
    with emails_in_one_task():
        deliver_all([notice for draft in drafts for notice in _deletion_notices(draft, today)])
    ReferralDraft.objects.filter(pk__in=[draft.pk for draft in drafts]).update(
        deletion_warned_at=timezone.now()
    )
    return len(drafts)


# --- After submission: requests for information and additions (ADR 28) -------------------------


def _is_member(user: User, organisation_id: int, roles: Iterable[Role]) -> bool:
    return members_with_role(organisation_id, roles).filter(user=user).exists()


def _check_decider(by: User, case: Case) -> None:
    if not _is_member(by, case.competent_authority_id, DECIDERS):
        raise ValidationError(
            f"Only decision makers of {case.competent_authority.name} can do this"
        )


def _check_referrer(by: User, case: Case) -> None:
    if not _is_member(by, case.referring_organisation_id, {Role.FIRST_RESPONDER}):
        raise ValidationError(
            f"Only first responders of {case.referring_organisation.name} can add to this referral"
        )


def _check_open(case: Case) -> None:
    if case.closed_at is not None:
        raise ValidationError("This case is closed: nothing more can be asked or added")


def _case_url(case: Case) -> str:
    return reverse("cases:detail", args=[case.reference])


def _asked_already(
    by: User,
    case: Case,
    question: str,
    respond_by: date,
    submission_key: UUID,
    *,
    refuse_other_case: bool,
) -> tuple[InformationRequest | None, UUID | None]:
    """The request the same form already asked (sent twice), or None; and the key to keep, None
    if another request holds it. A key is one form of one case (unique for its asker in the
    database): sent changed after going Back, or to another case (a copied or replayed form),
    the request is asked without it rather than dropped, or refused by the constraint as a
    server error. As `casework.services.case_note_add`. An API `Idempotency-Key` is one request
    (`refuse_other_case`): one that asked on another case is refused (`KeyReused`), as a request
    asked without the key could not be found again by its retry, and would be asked again."""
    # The case's lock: a second click sent at once waits for the first to commit.
    Case.objects.select_for_update().filter(pk=case.pk).exists()
    earlier = InformationRequest.objects.filter(asked_by=by, submission_key=submission_key).first()
    if earlier is None:
        return None, submission_key
    if earlier.case_id != case.pk and refuse_other_case:
        raise KeyReused()
    if earlier.case_id == case.pk:
        # The request asked with the key, or one asked on the case since with the same question
        # and day (this form changed after Back, then sent twice): a repeat.
        sent = InformationRequest.objects.filter(
            case=case, asked_by=by, asked_at__gte=earlier.asked_at
        ).order_by("asked_at", "id")
        for asked in sent:
            if (asked.question, asked.respond_by) == (question, respond_by):
                return asked, None
    return None, None


@transaction.atomic
def information_request_ask(
    *,
    by: User,
    case: Case,
    question: str,
    respond_by: date,
    submission_key: UUID | None = None,
    refuse_other_case: bool = False,
) -> InformationRequest:
    """A decision maker asks the referring organisation for more information, by a date; its
    first responders are told and the case's timeline says so.

    A request waits on the case until answered, and the referrer answers each, so the same form
    sent twice (`submission_key`, the form's one-time key) asks once: the second time, the
    request the first asked is returned, and nobody is told again. `refuse_other_case` for an
    API `Idempotency-Key`: a key that asked on another case is refused (`KeyReused`)."""
    _check_decider(by, case)
    question = question.strip()
    if submission_key is not None:
        earlier, submission_key = _asked_already(
            by, case, question, respond_by, submission_key, refuse_other_case=refuse_other_case
        )
        if earlier is not None:
            return earlier
    _check_open(case)
    errors: dict[str, str] = {}
    if not question:
        errors["question"] = "Enter what you need to know"
    if problem := answer_by_problem(respond_by, timezone.localdate()):
        errors["respond_by"] = problem
    if errors:
        raise ValidationError(errors)
    asked = InformationRequest.objects.create(
        case=case,
        asked_by=by,
        asked_at=timezone.now(),
        respond_by=respond_by,
        question=question,
        submission_key=submission_key,
    )
    case_event_record(
        case=case,
        kind="information.requested",
        by=by,
        at=asked.asked_at,
        description=f"{case.competent_authority.name} asked the referrer for more information, "
        f"by {respond_by:%-d %B %Y}",
        data={"information_request": asked.pk},
    )
    told = deliver(
        recipients=_members([case.referring_organisation], {Role.FIRST_RESPONDER}),
        kind="information.requested",
        case=case,
        url=_case_url(case),
        subject=f"More information asked for on {case.reference}",
        body=f"{case.competent_authority.name} has asked for more information about this "
        f"referral by {respond_by:%-d %B %Y}. Open the case to read the question and answer it.",
        stand_in=lambda: referrers_stand_in(case),
    )
    audit_record(
        by=by,
        action="information_request.asked",
        obj=asked,
        organisation=case.competent_authority,
        detail={
            "case": case.reference,
            "respond_by": respond_by.isoformat(),
            "notified": len(told),
        },
    )
    return asked


@transaction.atomic
def information_request_withdraw(*, by: User, request: InformationRequest) -> InformationRequest:
    """The competent authority no longer needs the answer."""
    locked = (
        InformationRequest.objects.select_for_update()
        .select_related("case__competent_authority", "case__referring_organisation")
        .get(pk=request.pk)
    )
    case = locked.case
    _check_decider(by, case)
    if locked.status != InformationRequestStatus.OPEN:
        raise ValidationError("This request has already been answered or withdrawn")
    locked.status = InformationRequestStatus.WITHDRAWN
    locked.closed_at = timezone.now()
    locked.save(update_fields=["status", "closed_at"])
    case_event_record(
        case=case,
        kind="information.withdrawn",
        by=by,
        at=locked.closed_at,
        description=f"{case.competent_authority.name} withdrew its request for information",
        data={"information_request": locked.pk},
    )
    told = deliver(
        recipients=_members([case.referring_organisation], {Role.FIRST_RESPONDER}),
        kind="information.withdrawn",
        case=case,
        url=_case_url(case),
        subject=f"Request for information withdrawn on {case.reference}",
        body=f"{case.competent_authority.name} no longer needs the information it asked for.",
        stand_in=lambda: referrers_stand_in(case),
    )
    audit_record(
        by=by,
        action="information_request.withdrawn",
        obj=locked,
        organisation=case.competent_authority,
        detail={"case": case.reference, "notified": len(told)},
    )
    return locked


def _answerable(case: Case, answers: InformationRequest) -> InformationRequest:
    request = InformationRequest.objects.select_for_update().get(pk=answers.pk)
    if request.case_id != case.pk:
        raise ValidationError("That request is about another case")
    if request.status != InformationRequestStatus.OPEN:
        raise ValidationError("This request has already been answered or withdrawn")
    return request


def _added_already(
    by: User,
    case: Case,
    sent: tuple[str, int | None, list[str]],
    submission_key: UUID,
    *,
    refuse_other_case: bool,
) -> tuple[ReferralAddition | None, UUID | None]:
    """The addition the same form already made (sent twice), or None; and the key to keep, None
    if another addition holds it. `sent` is the text, the request it answers and its files'
    SHA-256 digests. A key is one form of one case (unique for its author in the database):
    sent changed after going Back, or to another case (a copied or replayed form), the
    information is added without it rather than dropped, or refused by the constraint as a
    server error. As `casework.services.case_note_add`. An API `Idempotency-Key` is one request
    (`refuse_other_case`): one that added to another case is refused (`KeyReused`), as an
    addition made without the key could not be found again by its retry, and would be added
    again on each."""
    # The case's lock: a second click sent at once waits for the first to commit.
    Case.objects.select_for_update().filter(pk=case.pk).exists()
    earlier = ReferralAddition.objects.filter(added_by=by, submission_key=submission_key).first()
    if earlier is None:
        return None, submission_key
    if earlier.case_id != case.pk and refuse_other_case:
        raise KeyReused()
    if earlier.case_id == case.pk:
        # The addition made with the key, or one made to the case since with the same words,
        # request and files (this form changed after Back, then sent twice): a repeat.
        since = (
            ReferralAddition.objects.filter(case=case, added_by=by, added_at__gte=earlier.added_at)
            .prefetch_related("evidence")
            .order_by("added_at", "id")
        )
        for addition in since:
            files = sorted(evidence.sha256 for evidence in addition.evidence.all())
            if (addition.text, addition.answers_id, files) == sent:
                return addition, None
    return None, None


@transaction.atomic
def referral_addition_add(
    *,
    by: User,
    case: Case,
    text: str,
    uploads: Sequence[UploadedFile] = (),
    answers: InformationRequest | None = None,
    max_bytes: int,
    submission_key: UUID | None = None,
    refuse_other_case: bool = False,
) -> ReferralAddition:
    """The referring organisation adds information, and evidence files, to its submitted
    referral: answering `answers` (which is then answered) or of its own accord. Nothing that
    was submitted changes; the decision makers are told.

    An addition is kept for ever (ADR 0028), so the same form sent twice (`submission_key`, the
    form's one-time key) adds it, and its files, once: the second time, the addition the first
    made is returned, and nothing is stored or told again. `refuse_other_case` for an API
    `Idempotency-Key`: a key that added to another case is refused (`KeyReused`)."""
    _check_referrer(by, case)
    text = text.strip()
    errors: dict[str, str] = {}
    if not text:
        errors["text"] = "Enter the information you are adding"
    checked = []
    for upload in uploads:
        try:
            checked.append((upload, *upload_checked(upload, max_bytes)))
        except UploadRefused as refused:
            errors["evidence"] = f"{upload.name or 'A file'}: {refused}"
            break
    if submission_key is not None and not errors:
        files = sorted(sha256 for _, _, sha256, _ in checked)
        sent = (text, answers.pk if answers is not None else None, files)
        earlier, submission_key = _added_already(
            by, case, sent, submission_key, refuse_other_case=refuse_other_case
        )
        if earlier is not None:
            return earlier
    _check_open(case)
    if errors:
        raise ValidationError(errors)
    request = _answerable(case, answers) if answers is not None else None
    addition = ReferralAddition.objects.create(
        case=case,
        added_by=by,
        added_at=timezone.now(),
        answers=request,
        text=text,
        submission_key=submission_key,
    )
    # Written once everything that can refuse the addition has been checked (the request it
    # answers locked and still open); deleted if anything after them fails.
    written: list[EvidenceFile] = []
    try:
        for upload, content_type, sha256, name in checked:
            evidence = EvidenceFile(
                draft=None,
                case=case,
                addition=addition,
                uploaded_by=by,
                original_name=name,
                content_type=content_type,
                size=upload.size or 0,
                sha256=sha256,
            )
            evidence.file.save(
                new_reference("EV", 12) + EXTENSIONS[content_type], upload, save=False
            )
            written.append(evidence)
            evidence.save()
        _addition_announce(by, case, addition, request, files=len(checked))
    except BaseException:
        # The transaction rolls back: no row will point at the files written, so they go too.
        stored_files_delete(written)
        raise
    return addition


def _addition_announce(
    by: User,
    case: Case,
    addition: ReferralAddition,
    request: InformationRequest | None,
    *,
    files: int,
) -> None:
    """Close the request the addition answers, put it on the timeline, tell the decision
    makers, and audit it."""
    if request is not None:
        request.status = InformationRequestStatus.ANSWERED
        request.closed_at = addition.added_at
        request.save(update_fields=["status", "closed_at"])
    said_files = f" and {files} evidence file{'s' if files != 1 else ''}" if files else ""
    case_event_record(
        case=case,
        kind="referral.information_added",
        by=by,
        at=addition.added_at,
        description=f"{case.referring_organisation.name} added information{said_files}"
        + (" in answer to the request for information" if request is not None else ""),
        data={"addition": addition.pk, "answers": request.pk if request else None},
    )
    every_decider = _members([case.competent_authority], DECIDERS)
    deciders = every_decider
    if case.assigned_to_id is not None:
        deciders = [u for u in deciders if u.pk == case.assigned_to_id] or deciders
    # The asker too, while they still decide at the authority: one who has left is told nothing.
    asker = [request.asked_by] if request is not None else []
    approvers_told = _addition_announce_to_approvers(case, addition, request, every_decider)
    told = deliver(
        recipients=[
            u
            for u in deciders + [u for u in asker if u in every_decider]
            if u not in approvers_told
        ],
        kind="referral.information_added",
        case=case,
        url=_case_url(case),
        subject=f"New information on {case.reference}",
        body=f"{case.referring_organisation.name} has added information to this referral"
        + (" in answer to your request." if request is not None else "."),
    )
    audit_record(
        by=by,
        action="referral.addition_added",
        obj=addition,
        organisation=case.referring_organisation,
        detail={
            "case": case.reference,
            "files": files,
            "answers": request.pk if request is not None else None,
            "notified": len(told) + len(approvers_told),
            **({"approvers_notified": len(approvers_told)} if approvers_told else {}),
        },
    )


def _addition_announce_to_approvers(
    case: Case,
    addition: ReferralAddition,
    request: InformationRequest | None,
    every_decider: list[User],
) -> list[User]:
    """Tell those who may approve a negative decision drafted before the addition arrived, and
    waiting for a second decision maker, that it came after the draft, with a link to the
    approval page (which shows it): otherwise only the case's assignee, often the one who
    drafted it, hears of it, and a refusal for want of information could be approved without
    anyone looking at the information that came (review of stop 39). Who may approve: every
    decision maker of the authority but the one who drafted it, as when approval was asked
    (`decisions.services._after_recording`). Who was told; they get this message alone."""
    told: list[Notification] = []
    drafts = Decision.objects.filter(
        case=case, state=DecisionState.AWAITING_APPROVAL, decided_at__lt=addition.added_at
    )
    for draft in drafts:
        told += deliver(
            recipients=[u for u in every_decider if u.pk != draft.decided_by_id],
            kind="referral.information_added",
            case=case,
            url=reverse("decisions:approval", args=[draft.pk]),
            subject=f"New information on {case.reference}, whose decision waits for approval",
            body=f"{case.referring_organisation.name} has added information to this referral"
            + (" in answer to a request for information" if request is not None else "")
            + f" after its {draft.get_kind_display().lower()} ({draft.outcome_label}) was "
            "drafted. The decision waits for a second decision maker's approval and did not "
            "take the new information into account: read it before you approve.",
        )
    return [note.recipient for note in told]


@transaction.atomic
def referral_addition_mark_seen(*, by: User, addition: ReferralAddition) -> ReferralAddition:
    """A decision maker has read an addition: it no longer waits on their authority's home."""
    locked = (
        ReferralAddition.objects.select_for_update()
        .select_related("case__competent_authority")
        .get(pk=addition.pk)
    )
    _check_decider(by, locked.case)
    if locked.seen_at is None:
        locked.seen_by = by
        locked.seen_at = timezone.now()
        locked.save(update_fields=["seen_by", "seen_at"])
    audit_record(
        by=by,
        action="referral.addition_seen",
        obj=locked,
        organisation=locked.case.competent_authority,
        detail={"case": locked.case.reference},
    )
    return locked
