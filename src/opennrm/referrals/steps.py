"""The referral journey as a table: which question pages exist, in what order, which apply to
which referral, and which form checks each. The pages, the task list, "check your answers" and
the submission service all read this one table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from django import forms
from django.db.models import QuerySet

from opennrm.accounts.roles import DUTY_TO_NOTIFY_KINDS, Jurisdiction
from opennrm.cases.choices import AgeGroup, ExploitationAgeGroup, ExploitationType
from opennrm.safety.forms import ReferralSafetyForm
from opennrm.screening.catalogue import IndicatorList, ListKey
from opennrm.screening.forms import IndicatorChecklistForm
from opennrm.screening.models import IndicatorCatalogue
from opennrm.screening.selectors import active_catalogue

from . import forms as f

Answers = dict[str, dict[str, Any]]


class Route(StrEnum):
    UNDECIDED = "undecided"
    REFERRAL = "referral"
    DUTY_TO_NOTIFY = "duty_to_notify"
    # An adult who does not consent, at an organisation without the duty to notify: no referral
    # and no report, so nothing to submit (`NO_DUTY_TO_NOTIFY`).
    NOTHING_TO_SUBMIT = "nothing_to_submit"


# Not a page: the mark `services.draft_save_answers` keeps on the answers of a draft whose person
# was taken in as a child or as age disputed (`ReferralDraft.presumed_child`), children's
# services told. Whatever the age page then says, such a person is never an adult here: no
# consent is asked and the draft never becomes a duty to notify report (ADR 0025).
TAKEN_IN = "taken_in"


# Not a page: the mark `services.draft_save_answers` keeps on the answers of a draft made for an
# organisation that does not carry the duty to notify (Modern Slavery Act 2015 s.52: public
# authorities only, `DUTY_TO_NOTIFY_KINDS`, and in England and Wales only, FACTS 2.4). For it, an
# adult who does not consent leaves nothing to submit (`Route.NOTHING_TO_SUBMIT`): the task list
# says so at once, and offers no report page.
NO_DUTY_TO_NOTIFY = "no_duty_to_notify"


def carries_duty_to_notify(organisation_kind: str, jurisdiction: str) -> bool:
    """Whether an organisation of this kind, in this jurisdiction, must notify the Home Office
    of an adult who does not consent to a referral (a duty to notify report): a public authority
    in England and Wales, the only nation the Modern Slavery Act 2015 s.52 extends to (a Police
    Scotland or PSNI officer has no such duty)."""
    return (
        jurisdiction == Jurisdiction.ENGLAND_AND_WALES and organisation_kind in DUTY_TO_NOTIFY_KINDS
    )


def with_organisation(answers: Answers, organisation_kind: str, jurisdiction: str) -> Answers:
    """The answers with the mark of whether the draft's organisation carries the duty to
    notify (`NO_DUTY_TO_NOTIFY`), as it now is."""
    marked = {slug: values for slug, values in answers.items() if slug != NO_DUTY_TO_NOTIFY}
    if not carries_duty_to_notify(organisation_kind, jurisdiction):
        marked[NO_DUTY_TO_NOTIFY] = {
            "organisation_kind": organisation_kind,
            "jurisdiction": jurisdiction,
        }
    return marked


def presumed_child(answers: Answers) -> bool:
    """Whether the draft's person was taken in as a child or as age disputed."""
    return bool((answers.get(TAKEN_IN) or {}).get("presumed_child"))


def age_group(answers: Answers) -> AgeGroup | None:
    """The age group the journey treats the person as: the age page's answer, except that a
    person taken in as a child or as age disputed is never an adult (`presumed_child`)."""
    group = answered_age_group(answers)
    if group == AgeGroup.ADULT and presumed_child(answers):
        return AgeGroup.PRESUMED_CHILD
    return group


def answered_age_group(answers: Answers) -> AgeGroup | None:
    """The age group the age page's answer says."""
    age = answers.get("age", {})
    match age.get("under_18"):
        case "yes":
            return AgeGroup.CHILD
        case "no":
            return AgeGroup.ADULT
        case "not_sure" if age.get("reason_to_believe_child") == "yes":
            return AgeGroup.PRESUMED_CHILD
        case "not_sure" if age.get("reason_to_believe_child") == "no":
            return AgeGroup.ADULT
    return None


def age_group_at_exploitation(answers: Answers) -> ExploitationAgeGroup | None:
    """The age group when the exploitation began (ADR 0042): a child or age-disputed person is
    not asked (they were a child then too); an adult's is the exploitation page's answer."""
    group = age_group(answers)
    if group is None:
        return None
    if group != AgeGroup.ADULT:
        return ExploitationAgeGroup.CHILD
    match answers.get("exploitation", {}).get("under_18_when_began"):
        case "yes":
            return ExploitationAgeGroup.CHILD
        case "no":
            return ExploitationAgeGroup.ADULT
        case "not_known":
            return ExploitationAgeGroup.NOT_KNOWN
    return None


def date_of_birth(answers: Answers) -> date | None:
    """The date of birth typed on the person page, if it is a real date (else None)."""
    person = answers.get("person") or {}
    try:
        return date(
            int(person.get("date_of_birth_year") or ""),
            int(person.get("date_of_birth_month") or ""),
            int(person.get("date_of_birth_day") or ""),
        )
    # OverflowError: a day, month or year of 20 digits.
    except (TypeError, ValueError, OverflowError):
        return None


def route(answers: Answers) -> Route:
    group = age_group(answers)
    if group is None:
        return Route.UNDECIDED
    if group != AgeGroup.ADULT:
        return Route.REFERRAL  # children need no consent
    match answers.get("consent", {}).get("consents_to_referral"):
        case "yes":
            return Route.REFERRAL
        case "no" if NO_DUTY_TO_NOTIFY in answers:
            return Route.NOTHING_TO_SUBMIT
        case "no":
            return Route.DUTY_TO_NOTIFY
    return Route.UNDECIDED


def refused(answers: Answers) -> bool:
    """An adult who does not consent to a referral: a duty to notify report, or nothing to
    submit. No identifying answer or file is kept for them."""
    return route(answers) in (Route.DUTY_TO_NOTIFY, Route.NOTHING_TO_SUBMIT)


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    form_classes: dict[Route, type[forms.Form]]
    applies: Callable[[Answers], bool]
    optional: bool = False
    # An optional step the journey still walks to after the one before it, rather than leaving
    # it on the task list to choose: the page says it may be left empty.
    asked_in_turn: bool = False

    def form_class(self, answers: Answers) -> type[forms.Form] | None:
        return self.form_classes.get(route(answers)) or self.form_classes.get(Route.UNDECIDED)


def _always(answers: Answers) -> bool:
    return True


def _adult(answers: Answers) -> bool:
    return age_group(answers) == AgeGroup.ADULT


def _decided(answers: Answers) -> bool:
    """Something will be submitted: a referral or a duty to notify report."""
    return route(answers) in (Route.REFERRAL, Route.DUTY_TO_NOTIFY)


def _referral(answers: Answers) -> bool:
    return route(answers) == Route.REFERRAL


def _duty_to_notify(answers: Answers) -> bool:
    return route(answers) == Route.DUTY_TO_NOTIFY


STEPS: list[Step] = [
    Step("age", "Adult or child", {Route.UNDECIDED: f.AgeForm}, _always),
    Step("consent", "Consent", {Route.UNDECIDED: f.ConsentForm}, _adult),
    Step(
        "person",
        "About the person",
        {Route.REFERRAL: f.PersonForm, Route.DUTY_TO_NOTIFY: f.AnonymousPersonForm},
        _decided,
    ),
    Step(
        "exploitation",
        "The exploitation",
        {Route.REFERRAL: f.ExploitationForm, Route.DUTY_TO_NOTIFY: f.AnonymousExploitationForm},
        _decided,
    ),
    Step(
        "indicators",
        "Indicators observed",
        {Route.REFERRAL: IndicatorChecklistForm},
        _referral,
    ),
    Step("account", "What happened", {Route.REFERRAL: f.AccountForm}, _referral),
    Step("needs", "Immediate needs", {Route.REFERRAL: f.NeedsForm}, _referral),
    # Optional: a referral may be submitted without it (then it is recorded from the case page).
    Step(
        "safety",
        "Risk and safety",
        {Route.REFERRAL: ReferralSafetyForm},
        _referral,
        optional=True,
    ),
    # What the report can tell the police about the exploiters, never about the person.
    Step(
        "intelligence",
        "Intelligence for the police (optional)",
        {Route.DUTY_TO_NOTIFY: f.IntelligenceForm},
        _duty_to_notify,
        optional=True,
        asked_in_turn=True,
    ),
]

STEP_BY_SLUG = {step.slug: step for step in STEPS}

# Answers a duty to notify report may keep: everything else is identifying and is deleted from
# the draft as soon as the route becomes a duty to notify report.
ANONYMOUS_ANSWERS: dict[str, set[str]] = {
    "age": {"under_18", "reason_to_believe_child"},
    "consent": {
        "consents_to_referral",
        "consents_to_support",
        "explanation_version",
        "explanation_language",
    },
    "person": {"sex", "estimated_age", "nationality_1"},
    "exploitation": {"types", "location", "area"},
    # About the exploiters, not the person (its page says so): kept, encrypted, on the report's
    # `DutyToNotifyIntelligence`, and routed to the police.
    "intelligence": set(f.INTELLIGENCE_FIELDS),
    NO_DUTY_TO_NOTIFY: {"organisation_kind", "jurisdiction"},
}


def anonymous_answers(answers: Answers) -> Answers:
    """Only the answers a duty to notify report may keep."""
    return {
        slug: {key: value for key, value in values.items() if key in ANONYMOUS_ANSWERS[slug]}
        for slug, values in answers.items()
        if slug in ANONYMOUS_ANSWERS
    }


def shown_answers(answers: Answers) -> Answers:
    """The answers the draft's pages show: a duty to notify report's pages show no identifying
    answer, even one an autosaved "No" to consent has not yet deleted (nor does a draft with
    nothing to submit)."""
    if refused(answers):
        return anonymous_answers(answers)
    return answers


# Answers that identify the person, by step, each with the name of the field of the person or
# the case it becomes. A page that shows any of them saved records an audit event naming them.
IDENTIFYING_ANSWERS: dict[str, dict[str, str]] = {
    "person": {
        "given_names": "given_names",
        "family_name": "family_name",
        "date_of_birth_day": "date_of_birth",
        "date_of_birth_month": "date_of_birth",
        "date_of_birth_year": "date_of_birth",
        "aliases": "aliases",
        "safe_contact": "safe_contact",
    },
    "exploitation": {"places": "exploitation_places"},
    "account": {"persons_account": "persons_account", "responders_account": "responders_account"},
    "needs": {"details": "immediate_needs_details"},
    "safety": {
        "risk_reasons": "risk_reasons",
        "exploiters": "exploiters",
        "keep_away": "keep_away",
        "medical_needs": "medical_needs",
        **{f"dependant_{n}_name": "dependant_names" for n in (1, 2, 3)},
    },
    # Not the person's identity, but free text that could say more than meant: its showing is
    # recorded as theirs is.
    "intelligence": {
        name: "intelligence_"
        + (name.split("_")[0] + "s" if name.startswith(("place_", "vehicle_")) else name)
        for name in f.INTELLIGENCE_FIELDS
    },
}


def identifying_fields(answers: Answers, slugs: list[str] | None = None) -> list[str]:
    """The identifying fields the draft holds a value for (in the given steps, or all)."""
    found: list[str] = []
    for slug, names in IDENTIFYING_ANSWERS.items():
        if slugs is not None and slug not in slugs:
            continue
        saved = answers.get(slug) or {}
        for key, field in names.items():
            if saved.get(key) not in (None, "", []) and field not in found:
                found.append(field)
    return found


def _area_organisations() -> QuerySet[Any]:
    """The active organisations whose areas are the local authority areas the service knows."""
    from opennrm.accounts.models import Organisation
    from opennrm.accounts.roles import OrganisationKind

    return Organisation.objects.filter(
        kind__in=[OrganisationKind.LOCAL_AUTHORITY, OrganisationKind.CHILD_GUARDIAN_SERVICE],
        is_active=True,
    ).exclude(area="")


def areas() -> list[str]:
    """The local authority areas the service knows, from its local authorities."""
    return sorted(set(_area_organisations().values_list("area", flat=True)))


def area_jurisdiction(area: str) -> str | None:
    """The nation whose law governs a person in this local authority area: the jurisdiction of
    the area's local authority (and child guardian service). The case of a person found in
    Glasgow is Scotland's, whoever refers them (a UK-wide unit set up as England and Wales).
    None for an area the service does not know, or whose organisations disagree."""
    found = set(_area_organisations().filter(area=area).values_list("jurisdiction", flat=True))
    return found.pop() if len(found) == 1 else None


def bind(
    step: Step,
    answers: Answers,
    data: dict[str, Any] | None = None,
    *,
    catalogue: IndicatorCatalogue | None = None,
) -> forms.Form | None:
    """The step's form for this draft, bound to `data` or else to the saved answers; the
    indicator checklist from `catalogue` (by default the active one)."""
    form_class = step.form_class(answers)
    if form_class is None:
        return None
    kwargs: dict[str, Any] = {}
    wanted = form_class.__init__.__code__.co_varnames
    if "areas" in wanted:
        kwargs["areas"] = areas()
    if "age_group" in wanted:
        kwargs["age_group"] = age_group(answers)
    if "born" in wanted:
        kwargs["born"] = date_of_birth(answers)
    if "presumed_child" in wanted:
        kwargs["presumed_child"] = presumed_child(answers)
    if form_class is IndicatorChecklistForm:
        indicator_list = indicator_list_for(answers, catalogue)
        if indicator_list is None:
            return None
        kwargs["indicator_list"] = indicator_list
    saved = answers.get(step.slug)
    bound_data = data if data is not None else saved
    return form_class(bound_data, **kwargs) if bound_data is not None else form_class(**kwargs)


class StepState(StrEnum):
    COMPLETED = "Completed"
    IN_PROGRESS = "In progress"
    NOT_STARTED = "Not yet started"
    CANNOT_START = "Cannot start yet"


def screening_list_key(answers: Answers) -> ListKey | None:
    """Which indicator list fits: a child's or an adult's, for sexual or labour exploitation.

    Needs the age and exploitation pages first. Sexual exploitation, if suspected at all, takes
    the sexual list; every other kind (criminal, domestic servitude...) is screened as labour.
    """
    group = age_group(answers)
    types = answers.get("exploitation", {}).get("types") or []
    if group is None or not types:
        return None
    return ListKey.of(
        is_child=group != AgeGroup.ADULT,
        exploitation="sexual" if ExploitationType.SEXUAL in types else "labour",
    )


def indicator_list_for(
    answers: Answers, catalogue: IndicatorCatalogue | None = None
) -> IndicatorList | None:
    key = screening_list_key(answers)
    return (catalogue or active_catalogue()).parsed().list(key) if key else None


def indicators_not_in_list(
    answers: Answers, catalogue: IndicatorCatalogue | None = None
) -> list[str]:
    """The saved indicators the list now shown (from `catalogue`) does not have: ticked from
    another list (before the age or the kind of exploitation was changed, or in the screening
    the draft started from), or from a catalogue version the draft did not record."""
    indicator_list = indicator_list_for(answers, catalogue)
    saved = (answers.get("indicators") or {}).get("observed") or []
    if indicator_list is None:
        return []
    return [code for code in saved if code not in indicator_list.codes]


def indicator_text(code: str, catalogue: IndicatorCatalogue | None = None) -> str:
    """What an indicator code says, from whichever of the catalogue's lists has it; the code
    itself for one it does not know."""
    for indicator_list in (catalogue or active_catalogue()).parsed().lists.values():
        found = indicator_list.get(code)
        if found is not None:
            return found.text
    return code


def state_of(
    step: Step, answers: Answers, *, catalogue: IndicatorCatalogue | None = None
) -> StepState:
    """The step's state; the indicators checked against `catalogue` (the draft's version,
    `selectors.draft_catalogue`; by default the active one)."""
    if step.form_class(answers) is None or (step.slug != "age" and age_group(answers) is None):
        return StepState.CANNOT_START
    if step.slug == "indicators" and screening_list_key(answers) is None:
        return StepState.CANNOT_START
    if step.slug not in answers:
        return StepState.NOT_STARTED
    form = bind(step, answers, catalogue=catalogue)
    return StepState.COMPLETED if form is not None and form.is_valid() else StepState.IN_PROGRESS


def left_out(step: Step, answers: Answers) -> bool:
    """An optional step not started: it does not hold the referral back."""
    return step.optional and step.slug not in answers


def applicable_steps(answers: Answers) -> list[Step]:
    return [step for step in STEPS if step.applies(answers) or step.slug == "age"]


def ready(answers: Answers, *, catalogue: IndicatorCatalogue | None = None) -> bool:
    """Whether every applicable step is complete (an optional one may be left untouched)."""
    return _decided(answers) and all(
        state_of(step, answers, catalogue=catalogue) == StepState.COMPLETED
        or left_out(step, answers)
        for step in applicable_steps(answers)
    )


def cleaned(
    answers: Answers, *, catalogue: IndicatorCatalogue | None = None
) -> dict[str, dict[str, Any]]:
    """Every applicable step's cleaned data (an optional step left untouched is left out);
    raises KeyError naming the first incomplete step. The indicators observed are checked
    against `catalogue` (by default the active one)."""
    result = {}
    for step in applicable_steps(answers):
        if left_out(step, answers):
            continue
        form = bind(step, answers, catalogue=catalogue)
        if form is None or step.slug not in answers or not form.is_valid():
            raise KeyError(step.slug)
        result[step.slug] = form.cleaned_data
    return result
