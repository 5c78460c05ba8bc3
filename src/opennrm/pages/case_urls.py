"""Every page of a case under `/cases/` and the namespace `cases:`: the case's own (cases.urls)
and those that show or act on other apps' records of the case, which live in those apps or,
for the case page that shows them all, here in `pages` (case_page.py), so that `cases` does not
import the apps built on it."""

from django.urls import path

from opennrm.cases import urls as case_urls
from opennrm.contacts import urls as contact_urls
from opennrm.decisions import views as decision_views
from opennrm.referrals import views as referral_views

from . import case_page

app_name = "cases"

urlpatterns = [
    path("<str:reference>/", case_page.detail, name="detail"),
    path(
        "<str:reference>/reconsideration/",
        decision_views.reconsideration_request,
        name="reconsideration_request",
    ),
    *case_urls.urlpatterns,
    # The case's contacts and agency references (contacts.urls).
    *contact_urls.urlpatterns,
    path(
        "<str:reference>/evidence/<int:evidence_id>/",
        referral_views.case_evidence_download,
        name="evidence_download",
    ),
]
