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
        # A person missing now whose age becomes disputed is a missing child to the local
        # authority; and its caseload lists the children of its area missing now. Safeguarding
        # imports nothing of care, so care adds both from here.
        from opennrm.safeguarding import services as safeguarding
        from opennrm.safeguarding import views as safeguarding_views

        from .services import missing_child_age_disputed
        from .views import caseload_extras

        if missing_child_age_disputed not in safeguarding.AGE_DISPUTE_TELLERS:
            safeguarding.AGE_DISPUTE_TELLERS.append(missing_child_age_disputed)
        if caseload_extras not in safeguarding_views.CASELOAD_EXTRAS:
            safeguarding_views.CASELOAD_EXTRAS.append(caseload_extras)
        # Decisions reads who is back from missing (the reminders, the operation board) and who
        # supports the person now (the reconsideration letters they read) through what care
        # tells it: decisions imports nothing of care (ADR 0020), and this import is the link.
        from opennrm.decisions.selectors import register_back_from_missing, register_supported_now

        from .selectors import back_from_missing_of, cases_supported_now_by

        register_back_from_missing(back_from_missing_of)
        register_supported_now(cases_supported_now_by)
