from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("sign-in/", views.sign_in, name="sign_in"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("signed-out/", views.signed_out_idle, name="signed_out_idle"),
    path("session/keep-alive/", views.keep_alive, name="keep_alive"),
    path("two-factor/set-up/", views.two_factor_setup, name="two_factor_setup"),
    path("two-factor/", views.two_factor_verify, name="two_factor_verify"),
    path("organisations/", views.organisation_list, name="organisation_list"),
    path("organisations/new/", views.organisation_create, name="organisation_create"),
    path("organisations/<int:organisation_id>/", views.member_list, name="member_list"),
    path("organisations/<int:organisation_id>/invite/", views.member_invite, name="member_invite"),
    path(
        "invitations/<int:invitation_id>/withdraw/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path(
        "invitations/<int:invitation_id>/approve/",
        views.invitation_approve,
        name="invitation_approve",
    ),
    path("memberships/<int:membership_id>/", views.membership_edit, name="membership_edit"),
    path("join/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("sign-in/reset/<str:token>/", views.sign_in_reset, name="sign_in_reset"),
]
