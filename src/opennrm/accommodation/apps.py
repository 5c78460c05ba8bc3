from django.apps import AppConfig


class AccommodationConfig(AppConfig):
    name = "opennrm.accommodation"
    label = "accommodation"
    verbose_name = "Accommodation"

    def ready(self) -> None:
        # A safety profile changed under a place already offered is refused (ADR 26); safety
        # imports nothing of accommodation, so accommodation registers its check there.
        from opennrm.safety import services as safety

        from .services import _held_places_still_allowed, _lived_in_places_told

        if _held_places_still_allowed not in safety.PROFILE_CHANGE_CHECKS:
            safety.PROFILE_CHANGE_CHECKS.append(_held_places_still_allowed)
        # And one that the place the person already lives in breaks is kept, and its provider
        # and the coordinators told; so is a risk that rose or whose reasons changed.
        if _lived_in_places_told not in safety.PROFILE_CHANGE_TELLERS:
            safety.PROFILE_CHANGE_TELLERS.append(_lived_in_places_told)
        # A person referred as an adult now treated as a child: their adult places withdrawn.
        from opennrm.safeguarding import services as safeguarding

        from .services import adult_places_withdrawn

        if adult_places_withdrawn not in safeguarding.AGE_DISPUTE_HOOKS:
            safeguarding.AGE_DISPUTE_HOOKS.append(adult_places_withdrawn)
        # A coordinator's address grants, and a safe-house manager's site assignments, end with
        # their membership or role, and do not come back with it (ADR 18); accounts imports
        # nothing of accommodation.
        from opennrm.accounts import services as accounts

        from .services import _address_grants_ended, _site_assignments_ended

        for ender in (_address_grants_ended, _site_assignments_ended):
            if ender not in accounts.MEMBERSHIP_CHANGED:
                accounts.MEMBERSHIP_CHANGED.append(ender)
