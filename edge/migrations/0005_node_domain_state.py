"""The delivery state of domains × nodes (`NodeDomainState`), the per-node history of applied revisions, and
the revisions still outstanding (indexed CONCURRENTLY on PostgreSQL: the revisions table is large and
written on every change)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from common.migration_operations import AddIndexConcurrentlyOnPostgreSQL


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('domains', '0001_initial'),
        ('edge', '0004_signing_keys_sealed'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AppliedRevision',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('applied_at', models.DateTimeField(db_index=True, verbose_name='applied at')),
            ],
            options={
                'verbose_name': 'applied revision',
                'verbose_name_plural': 'applied revisions',
            },
        ),
        migrations.CreateModel(
            name='NodeDomainState',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('applied_number', models.PositiveIntegerField(default=0, verbose_name='applied revision')),
                ('applied_at', models.DateTimeField(blank=True, null=True, verbose_name='applied at')),
                ('number', models.PositiveIntegerField(default=0, verbose_name='revision attempted')),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('applied', 'Applied'), ('failed', 'Failed'), ('superseded', 'Superseded')], default='pending', max_length=16, verbose_name='status')),
                ('attempts', models.PositiveIntegerField(default=0, verbose_name='attempts')),
                ('last_error', models.TextField(blank=True, verbose_name='last error')),
                ('updated_at', models.DateTimeField(verbose_name='since')),
            ],
            options={
                'verbose_name': 'deployment',
                'verbose_name_plural': 'deployments',
            },
        ),
        migrations.AddField(
            model_name='configrevision',
            name='outstanding',
            field=models.BooleanField(default=False, verbose_name='outstanding'),
        ),
        migrations.AddField(
            model_name='appliedrevision',
            name='node',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='edge.edgenode'),
        ),
        migrations.AddField(
            model_name='appliedrevision',
            name='revision',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='applications', to='edge.configrevision'),
        ),
        migrations.AddField(
            model_name='nodedomainstate',
            name='domain',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='node_states', to='domains.domain'),
        ),
        migrations.AddField(
            model_name='nodedomainstate',
            name='node',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='domain_states', to='edge.edgenode'),
        ),
        migrations.AddConstraint(
            model_name='appliedrevision',
            constraint=models.UniqueConstraint(fields=('revision', 'node'), name='applied_revision_unique_per_node'),
        ),
        migrations.AddConstraint(
            model_name='nodedomainstate',
            constraint=models.UniqueConstraint(fields=('domain', 'node'), name='node_domain_state_unique'),
        ),
        AddIndexConcurrentlyOnPostgreSQL(
            model_name='configrevision',
            index=models.Index(condition=models.Q(('outstanding', True)), fields=['domain'], name='revision_outstanding'),
        ),
    ]
