"""Letters are records: a table of the letters issued, frozen in the database itself.

Until now a letter was composed afresh from the case whenever it was opened, so its date and
the dates it stated changed with the case. From here each letter is stored once, when its
decision takes effect (decisions.services.letter_issue). The database refuses an UPDATE that
changes anything of an issued letter but its encrypted text, which only key rotation
(re-encrypted, same words) and erasure (emptied) touch.

Decisions already in effect get the letter they would have been shown today, dated the day
they took effect: the best record there is of what was sent. See
docs/adr/0017-letters-are-records.md.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import opennrm.lib.fields

FROZEN = (
    "decision_id",
    "case_id",
    "kind",
    "language",
    "issued_by_id",
    "issued_at",
    "issued_on",
    "dates_stated",
)
MESSAGE = "an issued letter is a record: it is never rewritten"
SQLITE = [
    "CREATE TRIGGER decisions_letter_frozen BEFORE UPDATE ON decisions_letter WHEN "
    + " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in FROZEN)
    + f" BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
]
SQLITE_REVERSE = ["DROP TRIGGER IF EXISTS decisions_letter_frozen"]
POSTGRESQL = [
    f"""CREATE OR REPLACE FUNCTION decisions_letter_refuse_rewrite() RETURNS trigger AS $$
       BEGIN
         IF ({", ".join(f"NEW.{c}" for c in FROZEN)}) IS DISTINCT FROM
            ({", ".join(f"OLD.{c}" for c in FROZEN)}) THEN
           RAISE EXCEPTION '{MESSAGE}';
         END IF;
         RETURN NEW;
       END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER decisions_letter_frozen BEFORE UPDATE ON decisions_letter
       FOR EACH ROW EXECUTE FUNCTION decisions_letter_refuse_rewrite()""",
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS decisions_letter_frozen ON decisions_letter",
    "DROP FUNCTION IF EXISTS decisions_letter_refuse_rewrite()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


def issue_letters_of_decisions_in_effect(apps, schema_editor):
    from django.utils import timezone

    from opennrm.decisions import letters

    Decision = apps.get_model("decisions", "Decision")
    Letter = apps.get_model("decisions", "Letter")
    PersonIdentity = apps.get_model("cases", "PersonIdentity")
    for decision in (
        Decision.objects.filter(state="in_effect")
        .select_related("case__person", "case__competent_authority")
        .order_by("pk")
    ):
        case = decision.case
        if not PersonIdentity.objects.filter(person_id=case.person_id).exists():
            continue
        issued_at = decision.approved_at or decision.decided_at
        composed = letters.compose(decision, case, timezone.localdate(issued_at))
        Letter.objects.create(
            decision=decision,
            case=case,
            kind=decision.kind,
            language=composed.text.language,
            issued_by_id=decision.approved_by_id or decision.decided_by_id,
            issued_at=issued_at,
            issued_on=timezone.localdate(issued_at),
            dates_stated={name: day.isoformat() for name, day in composed.dates_stated.items()},
            text=composed.text.as_json(),
        )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0009_queue_age_index"),
        ("decisions", "0003_encrypt_free_text"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Letter",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("reasonable_grounds", "Reasonable grounds decision"),
                            ("conclusive_grounds", "Conclusive grounds decision"),
                            ("disqualification", "Disqualification"),
                            ("recovery_extension", "Extension of the recovery period"),
                        ],
                        max_length=30,
                    ),
                ),
                ("language", models.CharField(max_length=12)),
                ("issued_at", models.DateTimeField()),
                ("issued_on", models.DateField()),
                ("dates_stated", models.JSONField(blank=True, default=dict)),
                ("text", opennrm.lib.fields.EncryptedJSONField(null=True)),
                (
                    "case",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="letters",
                        to="cases.case",
                    ),
                ),
                (
                    "decision",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="letter",
                        to="decisions.decision",
                    ),
                ),
                (
                    "issued_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["issued_at", "id"],
            },
        ),
        migrations.RunPython(issue_letters_of_decisions_in_effect, migrations.RunPython.noop),
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRESQL_REVERSE}),
        ),
    ]
