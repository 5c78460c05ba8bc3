"""Members linked through an erased referral kept that referral's case id
(`ClusterMember.linked_through_erased`), which says which pseudonymised referral these people's
is (ADR 0052, addendum of stop 36). Each id is replaced by a new random token, one per id, so
that the members of one group stay together and nothing names the erased case; 0 ("not known
which", migration 0004) says nothing and stays. Not reversible: the ids are not kept."""

import secrets

from django.db import migrations

# As `linkage.services._GROUP_TOKENS`.
GROUP_TOKENS = 2**53


def opaque_groups(apps, schema_editor):  # type: ignore[no-untyped-def]
    ClusterMember = apps.get_model("linkage", "ClusterMember")
    members = ClusterMember.objects.exclude(linked_through_erased=None).exclude(
        linked_through_erased=0
    )
    old = set(members.values_list("linked_through_erased", flat=True))
    # A token is never an id still to replace (nor another group's token), so that no update
    # merges two groups.
    used = set(old)
    for value in sorted(old):
        token = 0
        while token == 0 or token in used:
            token = secrets.randbelow(GROUP_TOKENS - 1) + 1
        used.add(token)
        ClusterMember.objects.filter(linked_through_erased=value).update(
            linked_through_erased=token
        )


class Migration(migrations.Migration):
    dependencies = [
        ("linkage", "0004_cluster_member_linked_through_erased"),
    ]

    operations = [
        migrations.RunPython(opaque_groups, migrations.RunPython.noop),
    ]
