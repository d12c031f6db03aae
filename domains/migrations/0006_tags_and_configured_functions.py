# Tags of domains, and the functions configured on them with their ConfigIds (the vendor's model).
#
# Before this, ConfigIds were derived from the domain (and origin) and a function counted as configured when
# its settings differed from the defaults. Those functions become configured rows here, each with the
# ConfigId it had, so scripts and Terraform states that hold one keep finding it. (Derived ids are at least
# 2**28; new rows take ids from the table's sequence, far below.)

import zlib

import django.db.models.deletion
from django.db import migrations, models


FUNCTION_CODES = {
    "https_origin_sni": 1,
    "forward_scheme": 2,
    "set_req_host_header": 3,
    "origin_certificate_verification": 4,
    "origin_sni": 5,
}


def _legacy_id(domain_pk, function, origin=None):
    tag = zlib.crc32(f"{origin.address.lower()}:{origin.port}".encode()) & 0xFFFFFF if origin else 0
    return (domain_pk << 28) | (tag << 4) | FUNCTION_CODES[function]


def configured_from_settings(apps, schema_editor):
    Settings = apps.get_model("domains", "OriginFetchSettings")
    Origin = apps.get_model("domains", "Origin")
    Configured = apps.get_model("domains", "ConfiguredFunction")
    rows = []
    for s in Settings.objects.iterator():
        configured = {
            "https_origin_sni": s.sni_enabled,
            "forward_scheme": (s.forward_scheme, s.http_port, s.https_port) != ("http", 80, 443),
            "set_req_host_header": bool(s.origin_host),
            "origin_certificate_verification": s.verify_origin_cert or bool(s.verify_common_names),
        }
        for function, on in configured.items():
            if on:
                rows.append(Configured(id=_legacy_id(s.domain_id, function), domain_id=s.domain_id, function=function))
    for origin in Origin.objects.exclude(sni_host="").iterator():
        rows.append(
            Configured(
                id=_legacy_id(origin.domain_id, "origin_sni", origin),
                domain_id=origin.domain_id,
                function="origin_sni",
                origin_id=origin.pk,
            )
        )
    Configured.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)


class Migration(migrations.Migration):

    dependencies = [
        ('domains', '0005_originfetchsettings_moved'),
    ]

    operations = [
        migrations.CreateModel(
            name='ConfiguredFunction',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('function', models.CharField(max_length=64, verbose_name='function')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('domain', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='configured_functions', to='domains.domain')),
                ('origin', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='configured_functions', to='domains.origin')),
            ],
            options={
                'verbose_name': 'configured function',
                'verbose_name_plural': 'configured functions',
                'ordering': ['id'],
                'constraints': [models.UniqueConstraint(condition=models.Q(('origin__isnull', True)), fields=('domain', 'function'), name='configured_function_unique_per_domain'), models.UniqueConstraint(condition=models.Q(('origin__isnull', False)), fields=('function', 'origin'), name='configured_function_unique_per_origin')],
            },
        ),
        migrations.CreateModel(
            name='DomainTag',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(max_length=64, verbose_name='tag key')),
                ('value', models.CharField(blank=True, max_length=128, verbose_name='tag value')),
                ('domain', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='tags', to='domains.domain')),
            ],
            options={
                'verbose_name': 'tag',
                'verbose_name_plural': 'tags',
                'ordering': ['key'],
                'indexes': [models.Index(fields=['key', 'value'], name='domain_tag_key_value')],
                'constraints': [models.UniqueConstraint(fields=('domain', 'key'), name='domain_tag_key_unique')],
            },
        ),
        migrations.RunPython(configured_from_settings, migrations.RunPython.noop),
    ]
