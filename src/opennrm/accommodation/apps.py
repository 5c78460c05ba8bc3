from django.apps import AppConfig


class AccommodationConfig(AppConfig):
    name = "opennrm.accommodation"
    label = "accommodation"
    verbose_name = "Accommodation"

    def ready(self) -> None:
        # A safety profile changed under a place already offered is refused (ADR 26); safety
        # imports nothing of accommodation, so accommodation registers its check there.
        from opennrm.safety import services as safety

        from .services import _held_places_still_allowed

        if _held_places_still_allowed not in safety.PROFILE_CHANGE_CHECKS:
            safety.PROFILE_CHANGE_CHECKS.append(_held_places_still_allowed)
