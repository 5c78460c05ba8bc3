"""The routes of a case's contacts and agency references. They are served under `/cases/` in
the one namespace `cases:` with the case's other pages, by pages/case_urls.py (ADR 20), so
this module has no namespace of its own."""

from django.urls import path

from . import views

urlpatterns = [
    path("<str:reference>/contacts/", views.contacts, name="contacts"),
    path("<str:reference>/contacts/change/", views.contacts_edit, name="contacts_edit"),
    path("<str:reference>/contacts/address/", views.contacts_address, name="contacts_address"),
    path("<str:reference>/contacts/consent/", views.contacts_consent, name="contacts_consent"),
]
