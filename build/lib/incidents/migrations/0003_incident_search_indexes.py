"""Indexes for the incident list at scale (issue 14, item 20).

- `incident_list_order` (every database): the keyset pagination of the list and the
  API walks (detected_at, id) newest first.
- PostgreSQL only: the `pg_trgm` extension and one trigram GIN index per searched
  column on `UPPER(column)`, the expression Django's `icontains` compares on
  PostgreSQL (`UPPER(col::text) LIKE UPPER('%term%')`), so text search reads the
  index instead of every row. They are made by `RunPython`, outside the model state:
  SQLite (the embedded default) cannot build GIN indexes, and an index in the model
  state would be rebuilt by SQLite's table remakes in later migrations.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

SEARCHED_COLUMNS = ("reference", "title", "summary", "affected_systems")


def add_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # Raw SQL rather than GinIndex(OpClass(...)): OpClass renders correctly only with
    # django.contrib.postgres installed, which the portal does not otherwise need.
    for column in SEARCHED_COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS incident_{column}_trgm ON incidents_incident "
            f"USING gin (UPPER({schema_editor.quote_name(column)}) gin_trgm_ops)"
        )


def remove_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in SEARCHED_COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS incident_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0002_alter_timelineentry_kind"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="incident",
            index=models.Index(fields=["-detected_at", "-id"], name="incident_list_order"),
        ),
        # CreateExtension does nothing on databases other than PostgreSQL.
        TrigramExtension(),
        migrations.RunPython(add_trigram_indexes, remove_trigram_indexes),
    ]
