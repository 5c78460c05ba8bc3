"""Holds made before a hold had to end with its operation (up to a year ahead) are brought to
the bound `operations.surge.beds_hold` now applies: midnight after the second day after the
operation's last day (`surge.HOLD_DAYS_AFTER_END`, copied here as it is today, so that this
migration means the same whatever the constant becomes). A hold made after that moment is
released. Holds already released or expired are left as they are."""

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import migrations
from django.utils import timezone

HOLD_DAYS_AFTER_END = 2


def end_holds_with_their_operation(apps: Any, schema_editor: Any) -> None:
    BedHold = apps.get_model("accommodation", "BedHold")
    Operation = apps.get_model("operations", "Operation")
    now = timezone.now()
    open_holds = BedHold.objects.filter(released_at=None, expires_at__gt=now)
    ends = dict(
        Operation.objects.filter(pk__in=open_holds.values("operation_id")).values_list(
            "pk", "ends_on"
        )
    )
    for operation_id, ends_on in ends.items():
        if ends_on > date.max - timedelta(days=HOLD_DAYS_AFTER_END + 1):
            # Saved before operations' dates were bounded (year 9999): no bound to bring to.
            continue
        after = ends_on + timedelta(days=HOLD_DAYS_AFTER_END + 1)
        latest = timezone.make_aware(datetime.combine(after, time(0)))
        running_past = open_holds.filter(operation_id=operation_id, expires_at__gt=latest)
        running_past.filter(held_at__gte=latest).update(released_at=now)
        running_past.filter(held_at__lt=latest).update(expires_at=latest)


class Migration(migrations.Migration):
    dependencies = [
        ("accommodation", "0002_surge_places_and_bed_holds"),
        ("operations", "0006_history_counted_ahead"),
    ]

    operations = [
        migrations.RunPython(end_holds_with_their_operation, migrations.RunPython.noop),
    ]
