"""What Django's admin site (system administrators only) may show: the read-only audit trail and
django-axes' lockout records, so a locked-out client can be released. Nothing else: an
authenticator's secret key (and the page that draws it as a QR code) is never shown to anyone
after it is set up, groups mean nothing here (roles are memberships, given through the
organisation pages), and task results can carry what a task was given."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.models import Group
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tasks_db.models import DBTaskResult

for model in (TOTPDevice, Group, DBTaskResult):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
