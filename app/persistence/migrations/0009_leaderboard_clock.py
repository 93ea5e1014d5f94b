from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

# The leaderboard run clock (when a board last went live, how far its runs have been announced
# as started and finished, when it next has work), the backfill's cursor, and the watches behind
# leaderboard.changed.


class Migration(migrations.Migration):
    dependencies = [('models', '0008_leaderboards')]

    initial = False

    operations = [
        ops.CreateModel(
            name='LeaderboardWatch',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('board', fields.ForeignKeyField('models.Leaderboard', source_field='board_id', db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('run_start', fields.DateField()),
                ('grp', fields.CharField(max_length=255)),
                ('due_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('quiet_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('version', fields.IntField(default=0)),
                ('sent', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'leaderboard_watch', 'app': 'models', 'unique_together': (('board', 'run_start', 'grp'),), 'indexes': [Index(fields=['due_at'], name='leaderboard_watch_due')], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Leaderboard',
            name='backfill_after',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Leaderboard',
            name='clock_due',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Leaderboard',
            name='clock_finished',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Leaderboard',
            name='clock_started',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Leaderboard',
            name='clock_turn',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='Leaderboard',
            name='live_since',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name='Leaderboard',
            index=Index(fields=['clock_due'], name='leaderboard_clock_due'),
        ),
    ]
