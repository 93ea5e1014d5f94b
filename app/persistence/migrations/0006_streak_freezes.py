from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

# Streak freezes. Days move to `metric_day`, one row per metric (days stored before have no
# metric and count for any streak configuration). The streak state becomes a freeze ledger: it
# is derived data, so it is rebuilt, keeping each user's longest streak (read by backdating) and
# marked for re-evaluation (version -1). Streak configurations are copied into a table with the
# freeze columns, as version 1.


class Migration(migrations.Migration):
    dependencies = [('models', '0005_badges')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MetricDay',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('metric', fields.ForeignKeyField('models.Metric', source_field='metric_id', null=True, db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('day', fields.DateField()),
            ],
            options={'table': 'metric_day', 'app': 'models', 'unique_together': (('user', 'day', 'metric'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.RunSQL(
            "INSERT INTO metric_day (tenant_id, user_id, metric_id, day) "
            "SELECT tenant_id, user_id, NULL, day FROM streak_day"
        ),
        ops.DeleteModel(name='StreakDay'),
        ops.CreateModel(
            name='FreezeGrant',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('day', fields.DateField()),
                ('count', fields.IntField()),
            ],
            options={'table': 'streak_freeze_grant', 'app': 'models', 'indexes': [Index(fields=['user_id', 'day'], name='freeze_grant_by_user')], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.RunSQL(
            "CREATE TABLE streak_config_0006 AS SELECT tenant_id, frequency, metric_ids "
            "FROM streak_config"
        ),
        ops.DeleteModel(name='StreakConfig'),
        ops.CreateModel(
            name='StreakConfig',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.OneToOneField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='streak_config', on_delete=OnDelete.CASCADE)),
                ('frequency', fields.CharField(max_length=16)),
                ('metric_ids', fields.TextField(default='[]', unique=False)),
                ('version', fields.IntField(default=0)),
                ('freeze_start', fields.IntField(null=True)),
                ('freeze_max', fields.IntField(null=True)),
                ('freeze_auto_interval', fields.IntField(null=True)),
                ('freeze_auto_amount', fields.IntField(null=True)),
            ],
            options={'table': 'streak_config', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.RunSQL(
            "INSERT INTO streak_config (tenant_id, frequency, metric_ids, version) "
            "SELECT tenant_id, frequency, metric_ids, 1 FROM streak_config_0006"
        ),
        ops.RunSQL("DROP TABLE streak_config_0006"),
        ops.RunSQL(
            "CREATE TABLE streak_longest_0006 AS SELECT tenant_id, user_id, longest FROM streak_state"
        ),
        ops.DeleteModel(name='StreakState'),
        ops.CreateModel(
            name='StreakState',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('user', fields.OneToOneField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='streak_state', on_delete=OnDelete.CASCADE)),
                ('version', fields.IntField(default=-1)),
                ('settled', fields.DateField(null=True)),
                ('earned_through', fields.DateField(null=True)),
                ('balance', fields.IntField(default=0)),
                ('chain_start', fields.DateField(null=True)),
                ('chain_last', fields.DateField(null=True)),
                ('chain_active', fields.IntField(default=0)),
                ('longest', fields.IntField(default=0)),
                ('due_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'streak_state', 'app': 'models', 'indexes': [Index(fields=['tenant_id', 'longest'], name='streak_by_longest'), Index(fields=['due_at'], name='streak_by_due')], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.RunSQL(
            "INSERT INTO streak_state (tenant_id, user_id, version, balance, chain_active, longest) "
            "SELECT tenant_id, user_id, -1, 0, 0, longest FROM streak_longest_0006"
        ),
        ops.RunSQL("DROP TABLE streak_longest_0006"),
    ]
