"""Revoke every token still working whose member holds no role in force in its organisation.

Since stop 40 a token is revoked when its member's access there is removed or changed
(`api.services._tokens_revoked_with_membership`); before, it was only refused while the access
was off, and giving the access back revived it. Tokens of members removed before that change
would still come back with the access: this ends them once, as the removal now would have."""

from django.db import migrations
from django.db.models import Exists, OuterRef
from django.utils import timezone


def revoke_tokens_of_removed_members(apps, schema_editor):
    ApiToken = apps.get_model("api", "ApiToken")
    Membership = apps.get_model("accounts", "Membership")
    in_force = Membership.objects.filter(
        user_id=OuterRef("acts_as_id"),
        organisation_id=OuterRef("organisation_id"),
        is_active=True,
    )
    ApiToken.objects.filter(revoked_at__isnull=True).exclude(Exists(in_force)).update(
        revoked_at=timezone.now()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0002_cache_table"),
        ("accounts", "0005_sign_in_reset"),
    ]

    operations = [
        migrations.RunPython(revoke_tokens_of_removed_members, migrations.RunPython.noop),
    ]
