"""What a missing report said of a child (`MissingEpisode.child_missing`, ADR 0015).

Existing episodes: the report did not keep it, so it is read back as the code read it then. A
person treated as a child now, or whose age group changed since the report, was told of as a
child (the age group then was all it looked at); for anyone else, children's services were told (or the staff asked to tell them) if the case's
timeline says so between the report and the return: a parent missing with a dependent child.
"""

from django.db import migrations, models
from django.db.models import Exists, OuterRef, Q

TREATED_AS_CHILD = ("child", "presumed_child")
SAFEGUARDING_EVENTS = ("support.missing_safeguarding_told", "support.missing_safeguarding_not_told")


def as_reported(apps, schema_editor):  # type: ignore[no-untyped-def]
    MissingEpisode = apps.get_model("care", "MissingEpisode")
    CaseEvent = apps.get_model("cases", "CaseEvent")
    MissingEpisode.objects.filter(case__age_group__in=TREATED_AS_CHILD).update(
        child_missing="person"
    )
    # An adult now whose age group changed since the report (a child who turned 18, or was
    # assessed an adult, while missing) was told of as a child: the old code wrote the same
    # safeguarding event for a missing child as for a parent, so it cannot tell them apart.
    changed = CaseEvent.objects.filter(
        case=OuterRef("case"), kind="case.age_group_changed", at__gte=OuterRef("reported_at")
    )
    MissingEpisode.objects.filter(child_missing="no").filter(Exists(changed)).update(
        child_missing="person"
    )
    told = CaseEvent.objects.filter(
        case=OuterRef("case"), kind__in=SAFEGUARDING_EVENTS, at__gte=OuterRef("reported_at")
    )
    MissingEpisode.objects.filter(child_missing="no").filter(
        Q(Exists(told), return_recorded_at=None)
        | Q(Exists(told.filter(at__lte=OuterRef("return_recorded_at"))))
    ).update(child_missing="with_them")


class Migration(migrations.Migration):
    dependencies = [
        ("care", "0002_delivery_submission_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="missingepisode",
            name="child_missing",
            field=models.CharField(
                choices=[
                    ("no", "No child"),
                    ("person", "A child"),
                    ("with_them", "A dependent child with them"),
                ],
                default="no",
                max_length=10,
            ),
        ),
        migrations.RunPython(as_reported, migrations.RunPython.noop),
    ]
