"""Organisations get administrators, and joining one becomes a request that they decide.

Existing memberships stay approved memberships. Each organisation's earliest member (by ``joined_at``,
then id) becomes its administrator: that is its creator whenever it was made through the services, which
always made the creator the first member.
"""

from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def earliest_member_becomes_admin(apps: Any, schema_editor: Any) -> None:
    Membership = apps.get_model("accounts", "Membership")
    first_of_each: dict[int, int] = {}
    for pk, organisation_id in Membership.objects.order_by("organisation_id", "joined_at", "pk").values_list(
        "pk", "organisation_id"
    ):
        first_of_each.setdefault(organisation_id, pk)
    Membership.objects.filter(pk__in=first_of_each.values()).update(role="admin")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="membership",
            name="role",
            field=models.CharField(
                choices=[("admin", "Administrator"), ("member", "Member")],
                default="member",
                max_length=16,
                verbose_name="role",
            ),
        ),
        migrations.CreateModel(
            name="MembershipRequest",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending review"),
                            ("approved", "Approved"),
                            ("rejected", "Rejected"),
                            ("withdrawn", "Withdrawn"),
                        ],
                        default="pending",
                        max_length=16,
                        verbose_name="status",
                    ),
                ),
                ("message", models.TextField(blank=True, verbose_name="message to the administrators")),
                ("decision_reason", models.TextField(blank=True, verbose_name="reason for the decision")),
                ("decided_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "organisation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="membership_requests",
                        to="accounts.organisation",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="membership_requests",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "membership request",
                "verbose_name_plural": "membership requests",
                "ordering": ["-created_at", "-pk"],
                "indexes": [
                    models.Index(fields=["organisation", "status"], name="accounts_me_organis_2f1099_idx")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("status", "pending")),
                        fields=("user", "organisation"),
                        name="membership_request_one_pending",
                    )
                ],
            },
        ),
        migrations.RunPython(earliest_member_becomes_admin, migrations.RunPython.noop),
    ]
