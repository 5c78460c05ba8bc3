"""Drafts made at an operation's reception before `presumed_child` existed (referrals 0008),
of a person taken in as a child or as age disputed, or whose age page has said so since (their
children's services were told then: the reception record's `found_child_at`): presumed
children, as such drafts are since. Only the flag is set: the next save writes the mark into the answers, and submission refuses an
adult's age answer while the flag stands (ADR 0043)."""

from django.db import migrations
from django.db.models import Q


def presume_children_found_before(apps, schema_editor):
    ReferralDraft = apps.get_model("referrals", "ReferralDraft")
    drafts = ReferralDraft.objects.filter(status="draft", presumed_child=False)
    drafts.filter(
        Q(reception_record__found_child_at__isnull=False) | ~Q(reception_record__age_group="adult"),
        reception_record__isnull=False,
    ).update(presumed_child=True)


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0008_draft_presumed_child"),
        ("operations", "0008_reception_found_child"),
    ]

    operations = [
        migrations.RunPython(presume_children_found_before, migrations.RunPython.noop),
    ]
