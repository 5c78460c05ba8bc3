from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "opennrm.care"
    label = "care"
    verbose_name = "Care: support plans and missing episodes"

    def ready(self) -> None:
        # The placement page (accommodation's) shows the person's plan and missing episodes;
        # accommodation imports nothing of care, so care adds them from here (ADR 0019).
        from opennrm.accommodation.views import PLACEMENT_PAGE_EXTRAS

        from .views import placement_extras

        if placement_extras not in PLACEMENT_PAGE_EXTRAS:
            PLACEMENT_PAGE_EXTRAS.append(placement_extras)
