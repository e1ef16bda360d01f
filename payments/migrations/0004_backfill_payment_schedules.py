"""Payment schedules for the agreements recorded before payments existed, made once here with their audit
entries, so that reading a payment page never writes (``payments.selectors.schedule_of`` only reads).

The work is ``payments.services.schedules.schedules_backfill`` (also ``manage.py
backfill_payment_schedules``): it plans the instalments from the agreed terms and appends each schedule's
``schedule.created`` entry to the audit chain exactly as a recording does, which the historical models
cannot. It runs only when some agreement has no schedule; when a later migration changes the models it
uses, this one is elidable (a database that has run it has nothing left to backfill).
"""

from django.db import migrations


def backfill(apps, schema_editor):
    Agreement = apps.get_model("offers", "Agreement")
    if not Agreement.objects.filter(payment_schedule__isnull=True).exists():
        return
    # Imported here, not at the top: a migration module is loaded by every command, the service only
    # when there is something to backfill
    from payments.services.schedules import schedules_backfill

    schedules_backfill()


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0003_checkout_sessions_disputes_stray_payments"),
        ("offers", "0003_negotiation"),
        ("audit", "0002_append_only_guard"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True)]
