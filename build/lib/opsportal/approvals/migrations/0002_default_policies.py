"""The default approval policies: live_transition and kill_switch_resume (issue 3)."""

from django.db import migrations


def create_policies(apps, schema_editor):
    from opsportal.approvals.defaults import ensure_default_policies

    ensure_default_policies(apps)


class Migration(migrations.Migration):
    dependencies = [("approvals", "0001_initial")]

    operations = [migrations.RunPython(create_policies, migrations.RunPython.noop)]
