"""Database triggers refusing UPDATE, DELETE (and TRUNCATE on PostgreSQL) of audit entries."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from audit.db_guard import install_guard, remove_guard


def install(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    install_guard(schema_editor.connection)


def remove(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    remove_guard(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(install, remove, elidable=False)]
