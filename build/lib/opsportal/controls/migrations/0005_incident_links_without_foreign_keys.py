# Controls sits below incidents: the kill-switch and mode history keep the linked
# incident's number, learned from the incidents app's listener, without a foreign key
# to a higher app. The column (incident_id) and its index stay; only the foreign-key
# constraint is dropped.

import django.db.models.deletion
from django.db import migrations, models


def _unconstrained() -> models.ForeignKey:
    return models.ForeignKey(
        "incidents.incident",
        blank=True,
        null=True,
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        db_constraint=False,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("controls", "0004_api_tokens"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterField("killswitchevent", "incident", _unconstrained()),
                migrations.AlterField("modechange", "incident", _unconstrained()),
            ],
            state_operations=[
                migrations.RemoveField("killswitchevent", "incident"),
                migrations.RemoveField("modechange", "incident"),
                migrations.AddField(
                    "killswitchevent",
                    "incident_id",
                    models.BigIntegerField(blank=True, db_index=True, null=True),
                ),
                migrations.AddField(
                    "modechange",
                    "incident_id",
                    models.BigIntegerField(blank=True, db_index=True, null=True),
                ),
            ],
        ),
    ]
