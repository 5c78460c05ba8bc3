from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "opennrm.care"
    label = "care"
    verbose_name = "Care: support plans and missing episodes"

    def ready(self) -> None:
        # The placement and request pages (accommodation's) show the person's plan and missing
        # episodes; accommodation imports nothing of care, so care adds them from here (ADR 0019).
        from opennrm.accommodation import views

        from .views import placement_extras, request_extras

        if placement_extras not in views.PLACEMENT_PAGE_EXTRAS:
            views.PLACEMENT_PAGE_EXTRAS.append(placement_extras)
        if request_extras not in views.REQUEST_PAGE_EXTRAS:
            views.REQUEST_PAGE_EXTRAS.append(request_extras)
