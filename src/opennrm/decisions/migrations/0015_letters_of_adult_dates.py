"""A letter when a change of age group starts the adult dates a decision gives.

A child (or a person whose age was disputed) found an adult by an age assessment, or who turned
18, after a decision, gets the dates the decision gives an adult (the move-on end, an adult's
support end) and a letter stating them (ADR 0017, addendum 2026-12-06, stop 39).
`Letter.occasion` says what a letter is for: its decision taking effect ("decision", every
letter so far) or those adult dates ("adult_dates"); the constraint keeping one letter of the
decision itself counts only the first. `Letter.issued_by` may be empty: the letter of a child
who turned 18 is issued by OpenNRM's daily task.

The trigger that keeps letters frozen (0004, 0012) is written again, as 0012 explains: SQLite
copies the table to add a column with a default, which drops its triggers, and the new column
is frozen like the others (the PostgreSQL function is replaced to check it).
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
    "reconsideration_id",
)
AFTER = (*BEFORE, "occasion")
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
        ("decisions", "0014_reconsideration_taken_in_time"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # Unapplied, the table is altered back below and then frozen as 0012 left it.
        migrations.RunPython(migrations.RunPython.noop, _freeze(BEFORE)),
        migrations.RemoveConstraint(
            model_name="letter",
            name="letter_one_per_decision",
        ),
        migrations.AddField(
            model_name="letter",
            name="occasion",
            field=models.CharField(
                choices=[
                    ("decision", "The decision"),
                    ("adult_dates", "The support dates as an adult"),
                ],
                default="decision",
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="letter",
            name="issued_by",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddConstraint(
            model_name="letter",
            constraint=models.UniqueConstraint(
                condition=models.Q(("occasion", "decision"), ("reconsideration__isnull", True)),
                fields=("decision",),
                name="letter_one_per_decision",
            ),
        ),
        migrations.RunPython(_freeze(AFTER), migrations.RunPython.noop),
    ]
