from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

# Leaderboards: boards, each user's value per run, the days on which it changed, and the
# groups, blocks and value counts that rank a row without walking its group. User ids break
# ties by their bytes: on PostgreSQL the copied ids get the "C" collation, since a database's
# default collation may order text by language (SQLite compares bytes already).


async def byte_ordered_ids(apps: Any, editor: Any) -> None:
    if editor.client.capabilities.dialect == "postgres":
        for table in ("leaderboard_entry", "leaderboard_block"):
            await editor.client.execute_script(
                f'ALTER TABLE {table} ALTER COLUMN external_id TYPE VARCHAR(255) COLLATE "C"'
            )

class Migration(migrations.Migration):
    dependencies = [('models', '0007_points')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Leaderboard',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('key', fields.CharField(max_length=100)),
                ('name', fields.CharField(max_length=255)),
                ('description', fields.TextField(null=True, unique=False)),
                ('status', fields.CharField(default='INACTIVE', max_length=16)),
                ('ever_live', fields.BooleanField(default=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('rank_by', fields.CharField(max_length=16)),
                ('metric', fields.ForeignKeyField('models.Metric', source_field='metric_id', null=True, db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('system', fields.ForeignKeyField('models.PointsSystem', source_field='system_id', null=True, db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('start', fields.DateField()),
                ('end', fields.DateField(null=True)),
                ('run_unit', fields.CharField(null=True, max_length=8)),
                ('run_interval', fields.IntField(null=True)),
                ('time_zone', fields.CharField(null=True, max_length=64)),
                ('max_participants', fields.IntField(null=True)),
                ('breakdown_attribute', fields.CharField(null=True, max_length=100)),
                ('user_attributes', fields.TextField(default='[]', unique=False)),
                ('tie_policy', fields.CharField(default='SHARED', max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'leaderboard', 'app': 'models', 'unique_together': (('tenant', 'key'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LeaderboardEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('board', fields.ForeignKeyField('models.Leaderboard', source_field='board_id', db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('run_start', fields.DateField()),
                ('grp', fields.CharField(null=True, max_length=255)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('external_id', fields.CharField(max_length=255)),
                ('value', fields.FloatField()),
                ('sort_value', fields.FloatField()),
                ('reached_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('previous_value', fields.FloatField(null=True)),
                ('previous_rank', fields.IntField(null=True)),
            ],
            options={'table': 'leaderboard_entry', 'app': 'models', 'unique_together': (('board', 'run_start', 'user'),), 'indexes': [Index(fields=['board_id', 'run_start', 'grp', 'sort_value', 'reached_at', 'external_id'], name='leaderboard_entry_order'), Index(fields=['user_id'], name='leaderboard_entry_by_user')], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LeaderboardDay',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('entry', fields.ForeignKeyField('models.LeaderboardEntry', source_field='entry_id', db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('day', fields.DateField()),
                ('value', fields.FloatField()),
                ('rank', fields.IntField(null=True)),
                ('previous_value', fields.FloatField(null=True)),
                ('previous_rank', fields.IntField(null=True)),
            ],
            options={'table': 'leaderboard_day', 'app': 'models', 'unique_together': (('entry', 'day'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LeaderboardGroup',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('board', fields.ForeignKeyField('models.Leaderboard', source_field='board_id', db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('run_start', fields.DateField()),
                ('grp', fields.CharField(max_length=255)),
                ('rows', fields.IntField(default=0)),
            ],
            options={'table': 'leaderboard_group', 'app': 'models', 'unique_together': (('board', 'run_start', 'grp'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LeaderboardBlock',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('group', fields.ForeignKeyField('models.LeaderboardGroup', source_field='group_id', db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('sort_value', fields.FloatField()),
                ('reached_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('external_id', fields.CharField(max_length=255)),
                ('rows', fields.IntField(default=0)),
            ],
            options={'table': 'leaderboard_block', 'app': 'models', 'unique_together': (('group', 'sort_value', 'reached_at', 'external_id'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LeaderboardValue',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('group', fields.ForeignKeyField('models.LeaderboardGroup', source_field='group_id', db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('sort_value', fields.FloatField()),
                ('rows', fields.IntField(default=0)),
            ],
            options={'table': 'leaderboard_value', 'app': 'models', 'unique_together': (('group', 'sort_value'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.RunPython(byte_ordered_ids),
    ]
