from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from opennrm.accommodation import urls as accommodation_urls
from opennrm.care import urls as care_urls
from opennrm.statistics import urls as statistics_urls

# The support pages keep their one namespace, `support`, and their paths, though three apps
# serve them now (ADR 0019).
support_urls = (
    accommodation_urls.urlpatterns + care_urls.urlpatterns + statistics_urls.urlpatterns,
    "support",
)

urlpatterns = [
    path("", include("opennrm.pages.urls")),
    path("", include("opennrm.accounts.urls")),
    path("audit/", include("opennrm.audit.urls")),
    path("referrals/", include("opennrm.referrals.urls")),
    # The case's own pages and those composed above it from other apps (pages/case_urls.py).
    path("cases/", include("opennrm.pages.case_urls")),
    path("decisions/", include("opennrm.decisions.urls")),
    # Possible earlier referrals of one person, for the competent authority (ADR 48, 49).
    path("linkage/", include("opennrm.linkage.urls")),
    path("notifications/", include("opennrm.notifications.urls")),
    path("tasks/", include("opennrm.casework.urls")),
    path("screening/", include("opennrm.screening.urls")),
    path("privacy/", include("opennrm.privacy.urls")),
    path("support/", include(support_urls)),
    path("children/", include("opennrm.safeguarding.urls")),
    path("safety/", include("opennrm.safety.urls")),
    # Planned enforcement operations: need-to-know, their lead and partners only (ADR 39).
    path("operations/", include("opennrm.operations.urls")),
    path("protection/", include("opennrm.protection.urls")),
    # The analysts' pages of the statistics app: official tables, the extract, private counts
    # (ADR 33, 34, 35).
    path("statistics/", include("opennrm.statistics.analyst_urls")),
    # Published official statistics: public, no sign-in, the frozen snapshots only (ADR 36).
    path("official-statistics/", include("opennrm.statistics.public_urls")),
    path("api/v1/", include("opennrm.api.urls")),
    path("django-admin/", admin.site.urls),
]

handler400 = "opennrm.pages.views.bad_request"
handler403 = "opennrm.pages.views.forbidden"
handler404 = "opennrm.pages.views.not_found"
handler500 = "opennrm.pages.views.server_error"
