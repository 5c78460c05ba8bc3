"""The models moved out of `support` (ADR 0019) are still known by their old labels wherever a
label is stored: in every encrypted value's associated data, in the audit trail's
`object_type`, and in key rotation's targets. A value encrypted before the move must decrypt
after it, and an audit search for `support.site` must still find a site's events."""

from __future__ import annotations

from django.apps import apps
from django.db import connection

from opennrm.accommodation.models import Site
from opennrm.accounts.models import Organisation, User
from opennrm.audit.models import AuditEvent
from opennrm.cases import key_rotation as rotation
from opennrm.lib import fields
from opennrm.lib.labels import stored_label
from tests import support_factories as f

MOVED_APPS = ("accommodation", "care")


def test_every_moved_model_keeps_its_support_label_and_table() -> None:
    models = [m for label in MOVED_APPS for m in apps.get_app_config(label).get_models()]
    moved = [m for m in models if getattr(m, "stored_app_label", None) == "support"]
    assert len(moved) == 15
    # Models added after the move have their own app's label and table (ADR 0044).
    assert {m._meta.label for m in models if m not in moved} == {"accommodation.BedHold"}
    for model in moved:
        name = model._meta.model_name
        assert stored_label(model) == f"support.{name}"
        assert model._meta.db_table == f"support_{name}"
        for field in fields.encrypted_fields(model):
            assert field.encryption_context == f"support.{name}.{field.name}"


def test_a_value_encrypted_under_the_old_label_decrypts_through_the_moved_model(
    maya: User, provider: Organisation
) -> None:
    site = f.site(maya, provider)
    # As `support.site` wrote it before the move: bound to the old context and to its row.
    token = fields.keyring().encrypt_text(
        "3 Old Label Lane", "support.site.address", str(site.row_uuid)
    )
    with connection.cursor() as cursor:
        cursor.execute("UPDATE support_site SET address = %s WHERE id = %s", [token, site.pk])
    assert Site.objects.get(pk=site.pk).address == "3 Old Label Lane"


def test_audit_events_and_rotation_name_moved_models_by_their_old_label(
    maya: User, provider: Organisation
) -> None:
    site = f.site(maya, provider)
    event = AuditEvent.objects.get(action="site.created")
    assert (event.object_type, event.object_id) == ("support.site", str(site.pk))
    targets = rotation.targets()
    assert "support.site" in targets
    assert not [t for t in targets if t.startswith(("accommodation.", "care."))]
