from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
import json
from datetime import datetime
from typing import Any


async def carry_pending_unlocks(apps: Any, schema_editor: Any) -> None:
    """Unlocks committed but not yet published move to the general outbox as
    achievement.completed events, so an upgrade loses no notification."""
    client = schema_editor.client
    rows = await client.execute_query_dict(
        "SELECT o.tenant_id, o.created_at, c.id AS completion_id, u.external_id AS user_id, "
        "c.achievement_id, c.completed_at FROM outbox o "
        "JOIN completion c ON c.id = o.completion_id JOIN app_user u ON u.id = c.user_id "
        "WHERE o.published_at IS NULL ORDER BY o.id"
    )
    for row in rows:
        completed_at = row["completed_at"]
        if not isinstance(completed_at, datetime):
            completed_at = datetime.fromisoformat(str(completed_at))
        data = json.dumps({
            "completionId": row["completion_id"],
            "userId": row["user_id"],
            "achievementId": row["achievement_id"],
            "completedAt": completed_at.isoformat(),
        })
        await client.execute_query(
            "INSERT INTO outbox_event (tenant_id, type, data, created_at) VALUES "
            + ("($1, $2, $3, $4)" if client.capabilities.dialect == "postgres" else "(?, ?, ?, ?)"),
            [row["tenant_id"], "achievement.completed", data, row["created_at"]],
        )


class Migration(migrations.Migration):
    dependencies = [('models', '0002_total_before_last_event')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OutboxEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('type', fields.CharField(max_length=64)),
                ('data', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('claimed_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'outbox_event', 'app': 'models', 'indexes': [Index(fields=['published_at', 'id'], name='outbox_event_pending')], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.RunPython(carry_pending_unlocks),
        ops.DeleteModel(name='Outbox'),
    ]
