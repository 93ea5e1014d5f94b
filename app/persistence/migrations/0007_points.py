from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

# Points: systems, their triggers, levels and boosts; each user's total per system with the
# marks of its triggers; the awards ledger.


class Migration(migrations.Migration):
    dependencies = [('models', '0006_streak_freezes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PointsSystem',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('key', fields.CharField(max_length=100)),
                ('name', fields.CharField(max_length=255)),
                ('description', fields.TextField(null=True, unique=False)),
                ('badge_url', fields.CharField(null=True, max_length=2048)),
                ('max_points', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'points_system', 'app': 'models', 'unique_together': (('tenant', 'key'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PointsBoost',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('system', fields.ForeignKeyField('models.PointsSystem', source_field='system_id', db_constraint=True, to_field='id', related_name='boosts', on_delete=OnDelete.CASCADE)),
                ('key', fields.CharField(max_length=100)),
                ('name', fields.CharField(max_length=255)),
                ('multiplier', fields.CharField(max_length=16)),
                ('start', fields.DateField()),
                ('end', fields.DateField(null=True)),
                ('rounding', fields.CharField(max_length=8)),
                ('scope', fields.CharField(max_length=16)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', null=True, db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('user_attributes', fields.TextField(default='[]', unique=False)),
                ('archived', fields.BooleanField(default=False)),
                ('started_sent', fields.BooleanField(default=False)),
                ('finished_sent', fields.BooleanField(default=False)),
                ('due_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'points_boost', 'app': 'models', 'unique_together': (('system', 'key'),), 'indexes': [Index(fields=['due_at'], name='points_boost_due')], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PointsLevel',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('system', fields.ForeignKeyField('models.PointsSystem', source_field='system_id', db_constraint=True, to_field='id', related_name='levels', on_delete=OnDelete.CASCADE)),
                ('key', fields.CharField(max_length=100)),
                ('name', fields.CharField(max_length=255)),
                ('description', fields.TextField(null=True, unique=False)),
                ('badge_url', fields.CharField(null=True, max_length=2048)),
                ('points', fields.IntField()),
            ],
            options={'table': 'points_level', 'app': 'models', 'unique_together': (('system', 'key'), ('system', 'points')), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PointsTrigger',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('system', fields.ForeignKeyField('models.PointsSystem', source_field='system_id', db_constraint=True, to_field='id', related_name='triggers', on_delete=OnDelete.CASCADE)),
                ('key', fields.CharField(max_length=100)),
                ('type', fields.CharField(max_length=16)),
                ('points', fields.IntField()),
                ('status', fields.CharField(default='INACTIVE', max_length=16)),
                ('ever_active', fields.BooleanField(default=False)),
                ('user_attributes', fields.TextField(default='[]', unique=False)),
                ('metric', fields.ForeignKeyField('models.Metric', source_field='metric_id', null=True, db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('metric_threshold', fields.FloatField(null=True)),
                ('event_attr_key', fields.CharField(null=True, max_length=100)),
                ('event_attr_value', fields.CharField(null=True, max_length=255)),
                ('block_if_out_of_points', fields.BooleanField(default=False)),
                ('achievement', fields.ForeignKeyField('models.Achievement', source_field='achievement_id', null=True, db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('streak_length', fields.IntField(null=True)),
                ('every_multiple', fields.BooleanField(default=True)),
                ('time_unit', fields.CharField(null=True, max_length=8)),
                ('time_interval', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'points_trigger', 'app': 'models', 'unique_together': (('system', 'key'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PointsAward',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('system', fields.ForeignKeyField('models.PointsSystem', source_field='system_id', db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('trigger', fields.ForeignKeyField('models.PointsTrigger', source_field='trigger_id', db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('awarded', fields.IntField()),
                ('total', fields.IntField()),
                ('awarded_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('multiplier', fields.CharField(max_length=32)),
                ('boost_ids', fields.TextField(default='[]', unique=False)),
                ('silent', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'points_award', 'app': 'models', 'indexes': [Index(fields=['user_id', 'system_id', 'id'], name='points_award_by_user')], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='UserPoints',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('system', fields.ForeignKeyField('models.PointsSystem', source_field='system_id', db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('total', fields.IntField(default=0)),
                ('marks', fields.TextField(default='{}', unique=False)),
            ],
            options={'table': 'user_points', 'app': 'models', 'unique_together': (('user', 'system'),), 'indexes': [Index(fields=['system_id', 'total'], name='user_points_by_total')], 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
