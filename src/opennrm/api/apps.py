from __future__ import annotations

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "opennrm.api"
    label = "api"
    verbose_name = "API"

    def ready(self) -> None:
        # A member's tokens end with their membership or role, and do not come back with it;
        # accounts imports nothing of the API (ADR 20).
        from opennrm.accounts import services as accounts

        from .services import _tokens_revoked_with_membership

        if _tokens_revoked_with_membership not in accounts.MEMBERSHIP_CHANGED:
            accounts.MEMBERSHIP_CHANGED.append(_tokens_revoked_with_membership)
