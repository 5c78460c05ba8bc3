"""Every page of a case under `/cases/` and the namespace `cases:`: the case's own (cases.urls)
and those that show or act on other apps' records of the case, which live in those apps or,
for the case page that shows them all, here in `pages` (case_page.py), so that `cases` does not
import the apps built on it."""

from django.urls import path

from opennrm.cases import urls as case_urls
from opennrm.cases import views as case_views
from opennrm.casework import views as casework_views
from opennrm.contacts import urls as contact_urls
from opennrm.decisions import views as decision_views
from opennrm.referrals import views as referral_views

from . import case_page

app_name = "cases"

urlpatterns = [
    # Before the case page's pattern, which would take "search" for a reference.
    path("search/", case_views.search, name="search"),
    path("<str:reference>/", case_page.detail, name="detail"),
    path(
        "<str:reference>/reconsideration/",
        decision_views.reconsideration_request,
        name="reconsideration_request",
    ),
    path(
        "<str:reference>/reconsideration/late/",
        decision_views.reconsideration_take_late,
        name="reconsideration_take_late",
    ),
    path(
        "<str:reference>/reconsideration/evidence/<int:evidence_id>/",
        decision_views.reconsideration_evidence,
        name="reconsideration_evidence",
    ),
    *case_urls.urlpatterns,
    # The case's contacts and agency references (contacts.urls).
    *contact_urls.urlpatterns,
    path(
        "<str:reference>/evidence/<int:evidence_id>/",
        referral_views.case_evidence_download,
        name="evidence_download",
    ),
    # Notes and tasks (casework).
    path("<str:reference>/notes/", casework_views.notes, name="notes"),
    path("<str:reference>/notes/new/", casework_views.note_add, name="note_add"),
    path("<str:reference>/tasks/new/", casework_views.task_add, name="task_add"),
    path("<str:reference>/tasks/<int:task_id>/done/", casework_views.task_done, name="task_done"),
    # After submission: requests for information and additions (referrals, ADR 28).
    path(
        "<str:reference>/information-requests/new/",
        referral_views.information_request_ask,
        name="information_request_ask",
    ),
    path(
        "<str:reference>/information-requests/<int:request_id>/answer/",
        referral_views.information_request_answer,
        name="information_request_answer",
    ),
    path(
        "<str:reference>/information-requests/<int:request_id>/withdraw/",
        referral_views.information_request_withdraw,
        name="information_request_withdraw",
    ),
    path("<str:reference>/additions/new/", referral_views.addition_add, name="addition_add"),
    path(
        "<str:reference>/additions/<int:addition_id>/seen/",
        referral_views.addition_seen,
        name="addition_seen",
    ),
    path("<str:reference>/referral-copy.pdf", referral_views.referral_copy, name="referral_copy"),
]
