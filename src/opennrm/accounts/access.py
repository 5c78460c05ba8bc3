"""Who may open which page: one table, enforced by AccessMiddleware for every route.

A route with no entry here is refused (404) and fails the access-table test, so adding a page
without deciding who may use it breaks the build. Record-level scope ("my organisation's
records") is applied by the selectors each view calls; this table decides the route.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.urls import ResolverMatch

from .actor import DECIDERS as DECIDER_ROLES
from .actor import Actor
from .models import User
from .roles import SUPPORT_PROVIDER_STAFF, Role


@dataclass(frozen=True)
class Rule:
    public: bool = False
    # Empty means any signed-in user who has passed two-factor authentication.
    roles: frozenset[Role] = field(default_factory=frozenset)
    # Pages of the two-factor flow itself: signed in, but not yet verified.
    before_two_factor: bool = False


PUBLIC = Rule(public=True)
SIGNED_IN = Rule()
TWO_FACTOR_STEP = Rule(before_two_factor=True)


def only(*roles: Role) -> Rule:
    return Rule(roles=frozenset(roles))


ADMINISTRATORS = only(Role.ORGANISATION_ADMIN, Role.SYSTEM_ADMIN)
DECIDERS = Rule(roles=DECIDER_ROLES)
COORDINATORS = only(Role.SUPPORT_COORDINATOR)
MANAGERS = only(Role.SAFE_HOUSE_MANAGER)
SUPPORT_STAFF = only(Role.SUPPORT_COORDINATOR, Role.SAFE_HOUSE_MANAGER)
CAPACITY_READERS = only(Role.SUPPORT_COORDINATOR, Role.SAFE_HOUSE_MANAGER, Role.ANALYST)
CASE_READERS = Rule(roles=DECIDER_ROLES | {Role.FIRST_RESPONDER, Role.SAFEGUARDING_LEAD})
# A reconsideration's letter is also read by the support provider that asked for it (ADR 17):
# the selector lets its staff read that letter alone.
RECONSIDERATION_LETTER_READERS = Rule(roles=CASE_READERS.roles | SUPPORT_PROVIDER_STAFF)
SCREENERS = only(Role.FIRST_RESPONDER, Role.SAFEGUARDING_LEAD)
# Operations (ADR 0039): the roles that work on one, in its lead or an invited organisation,
# and those that plan one (a police force's first responders, a competent authority's senior
# decision makers; which organisation is checked by operations.selectors).
OPERATION_READERS = only(
    Role.FIRST_RESPONDER,
    Role.DECISION_MAKER,
    Role.SENIOR_DECISION_MAKER,
    Role.SUPPORT_COORDINATOR,
    Role.SAFE_HOUSE_MANAGER,
    Role.SAFEGUARDING_LEAD,
)
OPERATION_PLANNERS = only(Role.FIRST_RESPONDER, Role.SENIOR_DECISION_MAKER)
# Those who take people in during one (ADR 0043; which operation, operations.selectors).
RECEPTIONISTS = only(Role.FIRST_RESPONDER, Role.SAFEGUARDING_LEAD)
ENFORCERS = only(Role.IMMIGRATION_ENFORCEMENT)

ROUTES: dict[str, Rule] = {
    "pages:home": SIGNED_IN,
    "pages:accessibility": PUBLIC,
    "pages:privacy": PUBLIC,
    "pages:healthz": PUBLIC,
    "accounts:sign_in": PUBLIC,
    "accounts:sign_out": PUBLIC,
    "accounts:signed_out_idle": PUBLIC,
    "accounts:invitation_accept": PUBLIC,
    "accounts:sign_in_reset": PUBLIC,
    "accounts:keep_alive": TWO_FACTOR_STEP,
    "accounts:two_factor_setup": TWO_FACTOR_STEP,
    "accounts:two_factor_verify": TWO_FACTOR_STEP,
    "accounts:organisation_list": ADMINISTRATORS,
    "accounts:organisation_create": only(Role.SYSTEM_ADMIN),
    "accounts:member_list": ADMINISTRATORS,
    "accounts:member_invite": ADMINISTRATORS,
    "accounts:membership_edit": ADMINISTRATORS,
    "accounts:invitation_revoke": ADMINISTRATORS,
    "accounts:invitation_approve": ADMINISTRATORS,
    # The audit trail: read-only, for those who run the service and its data-protection officer.
    "audit:search": only(Role.SYSTEM_ADMIN, Role.DATA_PROTECTION_OFFICER),
    # Data protection: who looked at a person, subject access, erasure on request and retention,
    # for the officer alone.
    "privacy:person_reads": only(Role.DATA_PROTECTION_OFFICER),
    "privacy:find": only(Role.DATA_PROTECTION_OFFICER),
    "privacy:person": only(Role.DATA_PROTECTION_OFFICER),
    "privacy:export": only(Role.DATA_PROTECTION_OFFICER),
    "privacy:erase": only(Role.DATA_PROTECTION_OFFICER),
    "privacy:retention": only(Role.DATA_PROTECTION_OFFICER),
    # Referrals: only first responders refer; each draft is its author's alone (selectors).
    "referrals:my_referrals": only(Role.FIRST_RESPONDER),
    "referrals:draft_start": only(Role.FIRST_RESPONDER),
    # Information referrers added after submission, for the authority to read (ADR 28).
    "referrals:additions_unseen": DECIDERS,
    "referrals:draft_from_screening": only(Role.FIRST_RESPONDER),
    "referrals:task_list": only(Role.FIRST_RESPONDER),
    "referrals:draft_delete": only(Role.FIRST_RESPONDER),
    "referrals:step": only(Role.FIRST_RESPONDER),
    "referrals:evidence": only(Role.FIRST_RESPONDER),
    "referrals:evidence_download": only(Role.FIRST_RESPONDER),
    "referrals:evidence_remove": only(Role.FIRST_RESPONDER),
    "referrals:check_answers": only(Role.FIRST_RESPONDER),
    "referrals:confirmation": only(Role.FIRST_RESPONDER),
    # A duty to notify report: its organisation's first responders, and the police (or the
    # competent authority) its intelligence was sent to (referrals.selectors.report_get_for).
    "referrals:report": only(Role.FIRST_RESPONDER, Role.DECISION_MAKER, Role.SENIOR_DECISION_MAKER),
    # Cases: which case a user may open is decided by cases.selectors.cases_visible_to.
    "cases:detail": CASE_READERS,
    # Finding cases: among those the user may open (cases.selectors.cases_matching).
    "cases:search": CASE_READERS,
    "cases:evidence_download": CASE_READERS,
    "cases:reconsideration_request": only(Role.FIRST_RESPONDER),
    # A request that came after the window, taken in by the competent authority's deciders.
    "cases:reconsideration_take_late": DECIDERS,
    "cases:reconsideration_evidence": Rule(roles=DECIDER_ROLES | {Role.FIRST_RESPONDER}),
    "cases:close": DECIDERS,
    # Notes and tasks: anyone who may open the case; who reads which note, and whose tasks
    # they see, is in casework.selectors.
    "cases:notes": CASE_READERS,
    "cases:note_add": CASE_READERS,
    "cases:task_add": CASE_READERS,
    "cases:task_done": CASE_READERS,
    "casework:my_tasks": CASE_READERS,
    "casework:task_reassign": CASE_READERS,
    # After submission (referrals, ADR 28): the authority asks, the referrer adds.
    "cases:information_request_ask": DECIDERS,
    "cases:information_request_withdraw": DECIDERS,
    "cases:information_request_answer": only(Role.FIRST_RESPONDER),
    "cases:addition_add": only(Role.FIRST_RESPONDER),
    "cases:addition_seen": DECIDERS,
    "cases:referral_copy": only(Role.FIRST_RESPONDER),
    # A case's contacts and agency references: whoever may open the case (contacts.selectors).
    "cases:contacts": CASE_READERS,
    "cases:contacts_edit": CASE_READERS,
    "cases:contacts_address": CASE_READERS,
    "cases:contacts_consent": CASE_READERS,
    # Support and accommodation. Coordinators work the waiting list and place people; the
    # provider's safe-house managers answer offers and run their sites (their own only:
    # accommodation.selectors). Addresses need more: accommodation.selectors.may_see_address.
    "support:requests": COORDINATORS,
    "support:request_new": COORDINATORS,
    "support:request": COORDINATORS,
    "support:request_edit": COORDINATORS,
    "support:request_place": COORDINATORS,
    "support:request_close": COORDINATORS,
    "support:proposals": COORDINATORS,
    "support:proposal_decide": COORDINATORS,
    # Coordinators ask; providers' administrators (or, in an emergency, a competent
    # authority's senior decision makers) decide; a system administrator has nothing here.
    "support:address_access": only(
        Role.ORGANISATION_ADMIN, Role.SUPPORT_COORDINATOR, Role.SENIOR_DECISION_MAKER
    ),
    "support:placements": SUPPORT_STAFF,
    "support:placement": SUPPORT_STAFF,
    "support:placement_respond": MANAGERS,
    "support:placement_arrived": MANAGERS,
    "support:placement_end": MANAGERS,
    "support:placement_cancel": COORDINATORS,
    "support:sites": SUPPORT_STAFF,
    "support:site": SUPPORT_STAFF,
    "support:site_new": MANAGERS,
    "support:site_edit": MANAGERS,
    "support:room_new": MANAGERS,
    "support:bed_service": MANAGERS,
    "support:service_new": MANAGERS,
    "support:service_edit": MANAGERS,
    # The capacity dashboard: figures only (no person, site name or address), national for all.
    "support:capacity": CAPACITY_READERS,
    "support:capacity_over_time": CAPACITY_READERS,
    "support:capacity_csv": CAPACITY_READERS,
    # The official tables' preview: figures only, protected as a release would be (ADR 0033).
    "statistics:tables": only(Role.ANALYST),
    # The de-identified extract and its CTDC form: analysts only (figures, never an identity).
    "statistics:extract": only(Role.ANALYST),
    "statistics:extract_download": only(Role.ANALYST),
    # Differentially private counts: analysts only, each charged to their own budget.
    "statistics:dp_query": only(Role.ANALYST),
    # Releases: analysts prepare, approve (a second analyst) and revise (ADR 0036).
    "statistics:releases": only(Role.ANALYST),
    "statistics:release_prepare": only(Role.ANALYST),
    "statistics:release_prepare_operation": only(Role.ANALYST),
    "statistics:release_version": only(Role.ANALYST),
    "statistics:release_approve": only(Role.ANALYST),
    "statistics:release_withdraw": only(Role.ANALYST),
    "statistics:release_revise": only(Role.ANALYST),
    # Published releases: anyone, signed in or not; the frozen snapshot only.
    "official_statistics:releases": PUBLIC,
    "official_statistics:release": PUBLIC,
    "official_statistics:download_ods": PUBLIC,
    "official_statistics:download_xlsx": PUBLIC,
    "official_statistics:download_csv": PUBLIC,
    "official_statistics:table_csv": PUBLIC,
    "official_statistics:download_synthetic": PUBLIC,
    # Support plans and missing episodes: coordinators, and the provider's managers while the
    # person is placed with them (care.selectors.support_cases_for); a child's missing episodes
    # also the safeguarding leads of the local authority of their area, who may house the child
    # with no placement request (care.selectors.missing_cases_for).
    "support:plan": SUPPORT_STAFF,
    "support:plan_measure": SUPPORT_STAFF,
    "support:plan_delivery": SUPPORT_STAFF,
    "support:missing_report": only(
        Role.SUPPORT_COORDINATOR, Role.SAFE_HOUSE_MANAGER, Role.SAFEGUARDING_LEAD
    ),
    "support:missing_list": SUPPORT_STAFF,
    # Where the rules let support providers ask (care.selectors.reconsideration_asker).
    "support:reconsideration_request": only(Role.SUPPORT_COORDINATOR, Role.SAFE_HOUSE_MANAGER),
    # The evidence a provider sent with its request, read back by the provider's staff
    # (decisions.selectors.reconsideration_evidence_sent_by_provider).
    "support:reconsideration_evidence": only(Role.SUPPORT_COORDINATOR, Role.SAFE_HOUSE_MANAGER),
    "support:missing_episode": only(
        Role.SUPPORT_COORDINATOR, Role.SAFE_HOUSE_MANAGER, Role.SAFEGUARDING_LEAD
    ),
    "support:directory": SIGNED_IN,
    # The directory as an HSDS document: the same content as the page, no addresses.
    "support:directory_hsds": SIGNED_IN,
    # Decisions: record-level access (the case's own authority) is in decisions.selectors.
    "decisions:queue": DECIDERS,
    "decisions:decide": DECIDERS,
    "decisions:approval": DECIDERS,
    "decisions:assign": DECIDERS,
    "decisions:extend": DECIDERS,
    "decisions:disqualify": DECIDERS,
    "decisions:reconsideration": DECIDERS,
    "decisions:letter": CASE_READERS,
    # Record linkage (ADR 0048, 0049): a pair is its authority's decision makers' to review
    # (linkage.selectors.pairs_for_review); nobody else learns it exists.
    "linkage:pairs": DECIDERS,
    "linkage:pair": DECIDERS,
    "linkage:pair_unlink": DECIDERS,
    "linkage:pair_reopen": DECIDERS,
    "linkage:quality": DECIDERS,
    "decisions:letter_pdf": CASE_READERS,
    "decisions:adult_dates_letter": CASE_READERS,
    "decisions:adult_dates_letter_pdf": CASE_READERS,
    # A reconsideration's letter: read by those who may read the decision's letter.
    "decisions:reconsideration_letter": RECONSIDERATION_LETTER_READERS,
    "decisions:reconsideration_letter_pdf": RECONSIDERATION_LETTER_READERS,
    # The children's pathway: safeguarding leads see the children of their area; only the
    # local authority's act on them (safeguarding.selectors).
    "safeguarding:caseload": only(Role.SAFEGUARDING_LEAD),
    "safeguarding:task": only(
        Role.SAFEGUARDING_LEAD, Role.DECISION_MAKER, Role.SENIOR_DECISION_MAKER
    ),
    "safeguarding:age_assessment": only(Role.SAFEGUARDING_LEAD),
    "safeguarding:age_dispute": only(
        Role.FIRST_RESPONDER, Role.DECISION_MAKER, Role.SENIOR_DECISION_MAKER
    ),
    "notifications:list": SIGNED_IN,
    "notifications:open": SIGNED_IN,
    "screening:start": SCREENERS,
    "screening:checklist": SCREENERS,
    "screening:detail": SCREENERS,
    # Safety profiles: whoever may open the case (safety.selectors.case_for_profile).
    "safety:edit": CASE_READERS,
    "safety:dependant_add": CASE_READERS,
    "safety:dependant_remove": CASE_READERS,
    "safety:children_in_area": only(Role.SAFEGUARDING_LEAD),
    # Operations: each one is seen by its lead's and its partners' members alone
    # (operations.selectors.operations_visible_to); only the lead's planners change it.
    "operations:list": OPERATION_READERS,
    "operations:plan": OPERATION_PLANNERS,
    "operations:detail": OPERATION_READERS,
    "operations:edit": OPERATION_PLANNERS,
    "operations:partner_invite": OPERATION_PLANNERS,
    "operations:cancel": OPERATION_PLANNERS,
    # Which operation, and whether they may take people in for it, is operations.services'.
    "operations:reception": RECEPTIONISTS,
    "operations:board": OPERATION_READERS,
    # Who took the person in, or a lead responder (operations.services.reception_missing).
    "operations:reception_missing": RECEPTIONISTS,
    # The draft's holder, or a safeguarding lead of the organisation that took the person in
    # (operations.selectors.may_hand_over).
    "operations:reception_hand_over": RECEPTIONISTS,
    "operations:report": OPERATION_READERS,
    # Surge places and held beds (ADR 0044): an invited support provider's coordinators and
    # safe-house managers (which provider, operations.surge.providers_acting_for).
    "operations:surge_add": SUPPORT_STAFF,
    "operations:surge_end": SUPPORT_STAFF,
    "operations:beds_hold": SUPPORT_STAFF,
    "operations:hold_release": SUPPORT_STAFF,
    # Protection from removal (ADR 0040): immigration enforcement officers only, who see the
    # protection answer for a reference and nothing else of any case.
    "protection:check": ENFORCERS,
    "protection:planned_removal": ENFORCERS,
}

# The API (/api/v1/) takes no session, so this rule lets its routes past the session checks
# above, and the API's own bearer-token authentication (opennrm.api.auth.TokenAuth) applies
# API_OPERATIONS below to every operation instead. Its documentation pages are open.
API = Rule(public=True)

# Whole URL namespaces that belong to one rule.
NAMESPACES: dict[str, Rule] = {
    "admin": only(Role.SYSTEM_ADMIN),
    "api": API,
}


@dataclass(frozen=True)
class ApiRule:
    """An API operation: the scope its token must carry, and the roles of which the member the
    token acts for must hold one, in the token's organisation."""

    scope: str
    roles: frozenset[Role]


# Every API operation, by HTTP method and route name. An operation missing here is refused,
# and tests/test_api_tokens.py fails. Roles are those of the pages that do the same thing;
# record-level scope comes from the same selectors.
API_OPERATIONS: dict[tuple[str, str], ApiRule] = {
    ("POST", "api:referrals"): ApiRule("referrals:write", frozenset({Role.FIRST_RESPONDER})),
    ("GET", "api:referrals"): ApiRule("referrals:read", frozenset({Role.FIRST_RESPONDER})),
    ("GET", "api:referral"): ApiRule("referrals:read", frozenset({Role.FIRST_RESPONDER})),
    # Cases (cases.api): as cases:detail and cases:reconsideration_request.
    ("GET", "api:case"): ApiRule("cases:read", CASE_READERS.roles),
    ("GET", "api:case_timeline"): ApiRule("cases:read", CASE_READERS.roles),
    ("POST", "api:case_reconsideration"): ApiRule(
        "decisions:write", frozenset({Role.FIRST_RESPONDER})
    ),
    # After submission (referrals.api, ADR 28): as cases:information_request_ask and
    # cases:addition_add; the list for either side.
    ("GET", "api:case_information_requests"): ApiRule(
        "cases:read", DECIDERS.roles | {Role.FIRST_RESPONDER}
    ),
    ("POST", "api:case_information_requests"): ApiRule("decisions:write", DECIDERS.roles),
    ("POST", "api:case_additions"): ApiRule("referrals:write", frozenset({Role.FIRST_RESPONDER})),
    # Decisions (decisions.api): as the decisions pages.
    ("GET", "api:queue"): ApiRule("decisions:read", DECIDERS.roles),
    ("POST", "api:case_decisions"): ApiRule("decisions:write", DECIDERS.roles),
    ("POST", "api:case_disqualification"): ApiRule("decisions:write", DECIDERS.roles),
    ("POST", "api:decision_approval"): ApiRule("decisions:write", DECIDERS.roles),
    ("POST", "api:reconsideration_decision"): ApiRule("decisions:write", DECIDERS.roles),
    ("POST", "api:case_assignment"): ApiRule("decisions:write", DECIDERS.roles),
    # Support and accommodation (accommodation.api): as the support pages. Coordinators work the
    # waiting list, matching and proposals and place by hand; the provider's safe-house managers
    # answer offers and record arrivals and exits; both see sites, beds and placements (a
    # manager only their own organisation's: accommodation.api); capacity as the dashboard.
    ("GET", "api:support_requests"): ApiRule("support:read", COORDINATORS.roles),
    ("POST", "api:support_matching"): ApiRule("support:write", COORDINATORS.roles),
    ("GET", "api:support_proposals"): ApiRule("support:read", COORDINATORS.roles),
    ("POST", "api:support_proposal_decision"): ApiRule("support:write", COORDINATORS.roles),
    ("POST", "api:support_request_placement"): ApiRule("support:write", COORDINATORS.roles),
    ("GET", "api:support_free_beds"): ApiRule("support:read", COORDINATORS.roles),
    ("GET", "api:support_placements"): ApiRule("support:read", SUPPORT_STAFF.roles),
    ("GET", "api:support_placement"): ApiRule("support:read", SUPPORT_STAFF.roles),
    ("POST", "api:support_placement_response"): ApiRule("support:write", MANAGERS.roles),
    ("POST", "api:support_placement_arrival"): ApiRule("support:write", MANAGERS.roles),
    ("POST", "api:support_placement_exit"): ApiRule("support:write", MANAGERS.roles),
    ("GET", "api:support_sites"): ApiRule("support:read", SUPPORT_STAFF.roles),
    ("GET", "api:support_site"): ApiRule("support:read", SUPPORT_STAFF.roles),
    ("GET", "api:support_capacity"): ApiRule("support:read", CAPACITY_READERS.roles),
    # Differentially private counts: analysts only, as the page (statistics.dp_api).
    ("POST", "api:statistics_private_counts"): ApiRule(
        "statistics:query", frozenset({Role.ANALYST})
    ),
    # The directory as HSDS: like the directory page, for every role (a token with the scope).
    # It holds no person and no address; its bed counts per service are what a referrer needs
    # to know where there is room.
    ("GET", "api:directory_hsds"): ApiRule("directory:read", frozenset(Role)),
    # Operations (operations.api): as the operations pages (ADR 0039); which operations, and
    # whether the token's organisation may lead one, is operations.selectors'.
    ("GET", "api:operations"): ApiRule("operations:read", OPERATION_READERS.roles),
    ("GET", "api:operation"): ApiRule("operations:read", OPERATION_READERS.roles),
    ("GET", "api:operation_report"): ApiRule("operations:read", OPERATION_READERS.roles),
    ("POST", "api:operations"): ApiRule("operations:write", OPERATION_PLANNERS.roles),
    # Reception (ADR 0043): as operations:board and operations:reception; whether the token's
    # organisation may take people in for this operation is operations.selectors'.
    ("GET", "api:operation_reception"): ApiRule("operations:read", OPERATION_READERS.roles),
    ("POST", "api:operation_reception"): ApiRule("operations:write", RECEPTIONISTS.roles),
    # Protection from removal (protection.api): as the protection pages.
    ("GET", "api:protection_check"): ApiRule("protection:check", ENFORCERS.roles),
    ("POST", "api:protection_planned_removals"): ApiRule("protection:check", ENFORCERS.roles),
}


# Read-only operations that take no token (`auth=None`), as their pages take no sign-in: the
# published official statistics (statistics.release_api, ADR 0036). Rate limited per address.
PUBLIC_API_OPERATIONS: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "api:statistics_releases"),
        ("GET", "api:statistics_release_version"),
    }
)


def api_rule_for(method: str, route: str) -> ApiRule | None:
    return API_OPERATIONS.get((method.upper(), route))


def rule_for(match: ResolverMatch) -> Rule | None:
    if match.view_name in ROUTES:
        return ROUTES[match.view_name]
    if match.namespaces and match.namespaces[0] in NAMESPACES:
        return NAMESPACES[match.namespaces[0]]
    return None


def two_factor_passed(user: User) -> bool:
    """Signed in with a verified one-time password; demo accounts skip it in DEMO mode only."""
    if not user.is_authenticated:
        return False
    if user.is_demo_account:
        # Demo accounts have a published password: usable in demo mode, never outside it.
        return bool(settings.DEMO)
    # OTPMiddleware adds is_verified() to request.user; a user object fresh from authenticate()
    # has not been through it and so has not passed two-factor.
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


def may_use(actor: Actor, rule: Rule) -> bool:
    """Whether this actor passes the rule, once signed in and past two-factor."""
    if rule.public:
        return True
    if not actor.user.is_authenticated:
        return False
    return not rule.roles or actor.has_any_role(rule.roles)


def may_open(actor: Actor, route: str) -> bool:
    rule = ROUTES.get(route)
    return (
        rule is not None and may_use(actor, rule) and (rule.public or two_factor_passed(actor.user))
    )
