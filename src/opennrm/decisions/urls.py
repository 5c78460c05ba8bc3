from django.urls import path

from . import views

app_name = "decisions"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("cases/<str:reference>/assign/", views.assign, name="assign"),
    path("cases/<str:reference>/extend/", views.extend, name="extend"),
    # Before the stages' route, which would take "disqualify" for a stage.
    path("cases/<str:reference>/disqualify/", views.disqualify, name="disqualify"),
    path("cases/<str:reference>/<slug:stage>/", views.decide, name="decide"),
    path("<int:decision_id>/approval/", views.approval, name="approval"),
    path("<int:decision_id>/letter/", views.letter, name="letter"),
    path("<int:decision_id>/letter.pdf", views.letter_pdf, name="letter_pdf"),
    # A letter of the adult dates a change of age group gave the case (ADR 0017, stop 39).
    path("letters/<int:letter_id>/", views.adult_dates_letter, name="adult_dates_letter"),
    path(
        "letters/<int:letter_id>/letter.pdf",
        views.adult_dates_letter_pdf,
        name="adult_dates_letter_pdf",
    ),
    path("reconsiderations/<int:request_id>/", views.reconsideration, name="reconsideration"),
    path(
        "reconsiderations/<int:request_id>/letter/",
        views.reconsideration_letter,
        name="reconsideration_letter",
    ),
    path(
        "reconsiderations/<int:request_id>/letter.pdf",
        views.reconsideration_letter_pdf,
        name="reconsideration_letter_pdf",
    ),
]
