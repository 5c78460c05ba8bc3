"""A letter for each reconsideration decided, beside the letter of the decision reconsidered.

`Letter.decision` becomes a foreign key (still one letter of the decision itself, by a partial
unique constraint) and `Letter.reconsideration` names the reconsideration a letter answers.

The trigger that keeps letters frozen (0004) is written again: SQLite alters a column's
constraints by copying the table into a new one, and dropping the old table drops its triggers;
and the new column must be frozen like the others. On PostgreSQL the trigger stays on the
altered table, and its function is replaced to check the new column too. See
docs/adr/0017-letters-are-records.md.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

BEFORE = (
    "decision_id",
    "case_id",
    "kind",
    "language",
    "issued_by_id",
    "issued_at",
    "issued_on",
    "dates_stated",
)
AFTER = (*BEFORE, "reconsideration_id")
MESSAGE = "an issued letter is a record: it is never rewritten"


def _sqlite(frozen):
    return [
        "DROP TRIGGER IF EXISTS decisions_letter_frozen",
        "CREATE TRIGGER decisions_letter_frozen BEFORE UPDATE ON decisions_letter WHEN "
        + " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in frozen)
        + f" BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    ]


def _postgresql(frozen):
    return [
        f"""CREATE OR REPLACE FUNCTION decisions_letter_refuse_rewrite() RETURNS trigger AS $$
           BEGIN
             IF ({", ".join(f"NEW.{c}" for c in frozen)}) IS DISTINCT FROM
                ({", ".join(f"OLD.{c}" for c in frozen)}) THEN
               RAISE EXCEPTION '{MESSAGE}';
             END IF;
             RETURN NEW;
           END; $$ LANGUAGE plpgsql""",
        "DROP TRIGGER IF EXISTS decisions_letter_frozen ON decisions_letter",
        """CREATE TRIGGER decisions_letter_frozen BEFORE UPDATE ON decisions_letter
           FOR EACH ROW EXECUTE FUNCTION decisions_letter_refuse_rewrite()""",
    ]


def _freeze(frozen):
    def run(apps, schema_editor):
        statements = {"sqlite": _sqlite(frozen), "postgresql": _postgresql(frozen)}
        for statement in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0015_case_area_age_idx"),
        ("decisions", "0011_reconsideration_support_provider"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # Unapplied, the table is altered back below and then frozen as 0004 left it.
        migrations.RunPython(migrations.RunPython.noop, _freeze(BEFORE)),
        migrations.AddField(
            model_name="letter",
            name="reconsideration",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="letter",
                to="decisions.reconsiderationrequest",
            ),
        ),
        migrations.AlterField(
            model_name="letter",
            name="decision",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="letters_issued",
                to="decisions.decision",
            ),
        ),
        migrations.AddConstraint(
            model_name="letter",
            constraint=models.UniqueConstraint(
                condition=models.Q(("reconsideration__isnull", True)),
                fields=("decision",),
                name="letter_one_per_decision",
            ),
        ),
        migrations.RunPython(_freeze(AFTER), migrations.RunPython.noop),
    ]
