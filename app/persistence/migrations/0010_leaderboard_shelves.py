from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

# Shelves: consecutive blocks of a leaderboard group and the rows they hold, so that a rank sums
# a few shelves and blocks instead of every block. Their user ids are byte-ordered as the
# blocks' are; each existing group gets one shelf holding all its blocks, which the upkeep
# worker then cuts to size.


async def first_shelves(apps: Any, editor: Any) -> None:
    if editor.client.capabilities.dialect == "postgres":
        await editor.client.execute_script(
            'ALTER TABLE leaderboard_shelf ALTER COLUMN external_id TYPE VARCHAR(255) COLLATE "C"'
        )
    await editor.client.execute_script(
        "INSERT INTO leaderboard_shelf (group_id, sort_value, reached_at, external_id, rows) "
        "SELECT b.group_id, b.sort_value, b.reached_at, b.external_id, g.rows "
        "FROM leaderboard_block b JOIN leaderboard_group g ON g.id = b.group_id "
        "WHERE NOT EXISTS (SELECT 1 FROM leaderboard_block e WHERE e.group_id = b.group_id "
        "AND (e.sort_value, e.reached_at, e.external_id) "
        "< (b.sort_value, b.reached_at, b.external_id))"
    )


class Migration(migrations.Migration):
    dependencies = [('models', '0009_leaderboard_clock')]

    initial = False

    operations = [
        ops.CreateModel(
            name='LeaderboardShelf',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('group', fields.ForeignKeyField('models.LeaderboardGroup', source_field='group_id', db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('sort_value', fields.FloatField()),
                ('reached_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('external_id', fields.CharField(max_length=255)),
                ('rows', fields.IntField(default=0)),
            ],
            options={'table': 'leaderboard_shelf', 'app': 'models', 'unique_together': (('group', 'sort_value', 'reached_at', 'external_id'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.RunPython(first_shelves),
    ]
