# The procedure library and sign-offs moved to their own apps (library, signoffs),
# keeping their tables: drills drops them from its state only, points its foreign
# keys at the new models, and hands their content types over so permissions granted
# on them and generic links to them (checklists, sign-offs) stay valid.

import django.db.models.deletion
from django.db import migrations, models

MOVED = {
    "procedure": "library",
    "procedureversion": "library",
    "procedurestep": "library",
    "checklist": "library",
    "checklistitem": "library",
    "signoff": "signoffs",
}


def hand_over_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model, app_label in MOVED.items():
        if ContentType.objects.filter(app_label=app_label, model=model).exists():
            continue  # already created for the new app (a fresh database): nothing to keep
        ContentType.objects.filter(app_label="drills", model=model).update(app_label=app_label)


def take_back_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model, app_label in MOVED.items():
        ContentType.objects.filter(app_label=app_label, model=model).update(app_label="drills")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("drills", "0003_drill_runs_signoffs"),
        ("library", "0001_initial"),
        ("signoffs", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables and their foreign keys stay as they are: state only.
            state_operations=[
                migrations.RemoveField(
                    model_name='checklist',
                    name='created_by',
                ),
                migrations.RemoveField(
                    model_name='checklist',
                    name='procedure_version',
                ),
                migrations.RemoveField(
                    model_name='checklist',
                    name='target_type',
                ),
                migrations.RemoveField(
                    model_name='checklistitem',
                    name='checklist',
                ),
                migrations.RemoveField(
                    model_name='checklistitem',
                    name='done_by',
                ),
                migrations.RemoveField(
                    model_name='checklistitem',
                    name='step',
                ),
                migrations.RemoveField(
                    model_name='procedureversion',
                    name='procedure',
                ),
                migrations.AlterField(
                    model_name='drillschedule',
                    name='procedure',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='schedules', to='library.procedure'),
                ),
                migrations.RemoveField(
                    model_name='procedurestep',
                    name='version',
                ),
                migrations.AlterField(
                    model_name='drillstepresult',
                    name='step',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='library.procedurestep'),
                ),
                migrations.RemoveField(
                    model_name='procedureversion',
                    name='created_by',
                ),
                migrations.AlterField(
                    model_name='drillrun',
                    name='procedure_version',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='drill_runs', to='library.procedureversion'),
                ),
                migrations.RemoveField(
                    model_name='signoff',
                    name='signer',
                ),
                migrations.RemoveField(
                    model_name='signoff',
                    name='target_type',
                ),
                migrations.DeleteModel(
                    name='Checklist',
                ),
                migrations.DeleteModel(
                    name='ChecklistItem',
                ),
                migrations.DeleteModel(
                    name='Procedure',
                ),
                migrations.DeleteModel(
                    name='ProcedureStep',
                ),
                migrations.DeleteModel(
                    name='ProcedureVersion',
                ),
                migrations.DeleteModel(
                    name='Signoff',
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(hand_over_content_types, take_back_content_types),
    ]
