# The council's model guidance moved out of ``guidance`` (which keeps the DfE guidance library)
# into this app, which sits above scrutiny (docs/adr/0019-layers.md).
#
# State only: the tables keep their names (``Meta.db_table``, the history's ``table_name``), so
# nothing in the database moves and no row is copied. guidance 0008 removes the models from
# guidance's state; scrutiny 0005 points its foreign keys here. The content types (and with
# them the permissions, groups' grants and admin log entries) are relabelled, not recreated.

import django.db.models.deletion
import django.utils.timezone
import simple_history.models
from django.conf import settings
from django.db import migrations, models


GUIDANCE_MODELS = [
    "modelguidanceversion",
    "guidancesection",
    "safeguardinglead",
    "trainingrecord",
    "acknowledgement",
]
MOVED = GUIDANCE_MODELS + [f"historical{name}" for name in GUIDANCE_MODELS]


def relabel_content_types(apps, schema_editor, *, old="guidance", new="modelguidance"):
    """Move the content types, keeping their ids: permissions hang off them, so each role's
    grants (``guidance.view_acknowledgement`` becomes ``modelguidance.view_acknowledgement``)
    and any admin log entries follow without a row being recreated. A fresh database has none
    yet; they are created after migrating, under the new label."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    taken = set(ContentType.objects.using(db).filter(app_label=new, model__in=MOVED).values_list("model", flat=True))
    ContentType.objects.using(db).filter(app_label=old, model__in=set(MOVED) - taken).update(app_label=new)


def relabel_back(apps, schema_editor):
    relabel_content_types(apps, schema_editor, old="modelguidance", new="guidance")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("guidance", "0007_merge_20261204_0243"),
        ('referrals', '0011_merge_0009_merge_20261204_0155_0010_referral_drafts'),
        ('scrutiny', '0004_merge_20261204_0243'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='HistoricalModelGuidanceVersion',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('number', models.PositiveIntegerField(db_index=True, editable=False)),
                        ('title', models.CharField(max_length=250)),
                        ('change_summary', models.TextField(blank=True, help_text='What changed since the previous version.')),
                        ('status', models.CharField(choices=[('draft', 'Draft'), ('submitted', 'Submitted for approval'), ('approved', 'Approved'), ('published', 'Published'), ('superseded', 'Superseded')], default='draft', editable=False, max_length=20)),
                        ('version', models.PositiveIntegerField(default=1, editable=False, help_text='Edit counter.')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                        ('submitted_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('eqia_file', models.TextField(blank=True, editable=False, max_length=100, verbose_name='equality impact assessment')),
                        ('eqia_summary', models.TextField(blank=True, editable=False, verbose_name='equality impact assessment summary')),
                        ('eqia_attached_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('approved_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('published_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('superseded_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('approved_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('created_by', models.ForeignKey(blank=True, db_constraint=False, editable=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('decision', models.ForeignKey(blank=True, db_constraint=False, editable=False, help_text='The cabinet decision that approved this version.', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='scrutiny.decisionrecord')),
                        ('eqia_attached_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('published_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('submitted_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'historical model guidance version',
                        'verbose_name_plural': 'historical model guidance versions',
                        'db_table': 'guidance_historicalmodelguidanceversion',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name='HistoricalSafeguardingLead',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('role', models.CharField(choices=[('dsl', 'Designated safeguarding lead'), ('deputy', 'Deputy designated safeguarding lead')], max_length=10)),
                        ('name', models.CharField(max_length=200)),
                        ('email', models.EmailField(max_length=254)),
                        ('active', models.BooleanField(default=True, help_text='Untick when they leave the role.')),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('school', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='referrals.school')),
                    ],
                    options={
                        'verbose_name': 'historical designated safeguarding lead',
                        'verbose_name_plural': 'historical designated safeguarding leads',
                        'db_table': 'guidance_historicalsafeguardinglead',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name='ModelGuidanceVersion',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('number', models.PositiveIntegerField(editable=False, unique=True)),
                        ('title', models.CharField(max_length=250)),
                        ('change_summary', models.TextField(blank=True, help_text='What changed since the previous version.')),
                        ('status', models.CharField(choices=[('draft', 'Draft'), ('submitted', 'Submitted for approval'), ('approved', 'Approved'), ('published', 'Published'), ('superseded', 'Superseded')], default='draft', editable=False, max_length=20)),
                        ('version', models.PositiveIntegerField(default=1, editable=False, help_text='Edit counter.')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                        ('submitted_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('eqia_file', models.FileField(blank=True, editable=False, upload_to='guidance/eqia/', verbose_name='equality impact assessment')),
                        ('eqia_summary', models.TextField(blank=True, editable=False, verbose_name='equality impact assessment summary')),
                        ('eqia_attached_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('approved_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('published_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('superseded_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('approved_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('created_by', models.ForeignKey(editable=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('decision', models.ForeignKey(blank=True, editable=False, help_text='The cabinet decision that approved this version.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='guidance_versions', to='scrutiny.decisionrecord')),
                        ('eqia_attached_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('published_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('submitted_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'model guidance version',
                        'db_table': 'guidance_modelguidanceversion',
                        'ordering': ('-number',),
                    },
                ),
                migrations.CreateModel(
                    name='HistoricalGuidanceSection',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('order', models.PositiveSmallIntegerField()),
                        ('heading', models.CharField(max_length=200)),
                        ('body', models.TextField(help_text='Markdown: paragraphs, lists, links, emphasis.')),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('guidance_version', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='modelguidance.modelguidanceversion')),
                    ],
                    options={
                        'verbose_name': 'historical guidance section',
                        'verbose_name_plural': 'historical guidance sections',
                        'db_table': 'guidance_historicalguidancesection',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name='GuidanceSection',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('order', models.PositiveSmallIntegerField()),
                        ('heading', models.CharField(max_length=200)),
                        ('body', models.TextField(help_text='Markdown: paragraphs, lists, links, emphasis.')),
                        ('guidance_version', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='sections', to='modelguidance.modelguidanceversion')),
                    ],
                    options={
                        'db_table': 'guidance_guidancesection',
                        'ordering': ('guidance_version', 'order'),
                    },
                ),
                migrations.CreateModel(
                    name='SafeguardingLead',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('role', models.CharField(choices=[('dsl', 'Designated safeguarding lead'), ('deputy', 'Deputy designated safeguarding lead')], max_length=10)),
                        ('name', models.CharField(max_length=200)),
                        ('email', models.EmailField(max_length=254)),
                        ('active', models.BooleanField(default=True, help_text='Untick when they leave the role.')),
                        ('school', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='safeguarding_leads', to='referrals.school')),
                    ],
                    options={
                        'verbose_name': 'designated safeguarding lead',
                        'db_table': 'guidance_safeguardinglead',
                        'ordering': ('school__name', 'role', 'name'),
                    },
                ),
                migrations.CreateModel(
                    name='HistoricalTrainingRecord',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('course', models.CharField(max_length=200)),
                        ('provider', models.CharField(max_length=200)),
                        ('completed_on', models.DateField()),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('lead', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='modelguidance.safeguardinglead')),
                    ],
                    options={
                        'verbose_name': 'historical training record',
                        'verbose_name_plural': 'historical training records',
                        'db_table': 'guidance_historicaltrainingrecord',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name='HistoricalAcknowledgement',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('token_hash', models.CharField(blank=True, db_index=True, editable=False, max_length=64)),
                        ('expires_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('requested_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                        ('sent_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('remind_requested_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('reminded_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('reminders', models.PositiveSmallIntegerField(default=0, editable=False)),
                        ('acknowledged_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('acknowledged_name', models.CharField(blank=True, editable=False, max_length=200)),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('school', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='referrals.school')),
                        ('guidance_version', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='modelguidance.modelguidanceversion')),
                        ('lead', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='modelguidance.safeguardinglead')),
                    ],
                    options={
                        'verbose_name': 'historical acknowledgement',
                        'verbose_name_plural': 'historical acknowledgements',
                        'db_table': 'guidance_historicalacknowledgement',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name='Acknowledgement',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('token_hash', models.CharField(blank=True, db_index=True, editable=False, max_length=64)),
                        ('expires_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('requested_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                        ('sent_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('remind_requested_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('reminded_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('reminders', models.PositiveSmallIntegerField(default=0, editable=False)),
                        ('acknowledged_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('acknowledged_name', models.CharField(blank=True, editable=False, max_length=200)),
                        ('school', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='referrals.school')),
                        ('guidance_version', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='acknowledgements', to='modelguidance.modelguidanceversion')),
                        ('lead', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='modelguidance.safeguardinglead')),
                    ],
                    options={
                        'db_table': 'guidance_acknowledgement',
                        'ordering': ('school__name',),
                    },
                ),
                migrations.CreateModel(
                    name='TrainingRecord',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('course', models.CharField(max_length=200)),
                        ('provider', models.CharField(max_length=200)),
                        ('completed_on', models.DateField()),
                        ('lead', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='training', to='modelguidance.safeguardinglead')),
                    ],
                    options={
                        'db_table': 'guidance_trainingrecord',
                        'ordering': ('-completed_on',),
                    },
                ),
                migrations.AddConstraint(
                    model_name='modelguidanceversion',
                    constraint=models.CheckConstraint(condition=models.Q(('published_at__isnull', True), models.Q(('approved_at__isnull', False), ('decision__isnull', False), ('eqia_attached_at__isnull', False), models.Q(('eqia_file', ''), _negated=True)), _connector='OR'), name='guidance_published_only_when_approved'),
                ),
                migrations.AddConstraint(
                    model_name='modelguidanceversion',
                    constraint=models.CheckConstraint(condition=models.Q(('approved_at__isnull', True), models.Q(('decision__isnull', False), ('eqia_attached_at__isnull', False), models.Q(('eqia_file', ''), _negated=True)), _connector='OR'), name='guidance_approved_only_with_decision_and_eqia'),
                ),
                migrations.AddConstraint(
                    model_name='modelguidanceversion',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('status__in', ['approved', 'published', 'superseded']), _negated=True), ('approved_at__isnull', False), _connector='OR'), name='guidance_status_approved_has_approval'),
                ),
                migrations.AddConstraint(
                    model_name='modelguidanceversion',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('status__in', ['published', 'superseded']), _negated=True), ('published_at__isnull', False), _connector='OR'), name='guidance_status_published_has_date'),
                ),
                migrations.AddConstraint(
                    model_name='modelguidanceversion',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('status__in', ['draft', 'submitted', 'approved']), _negated=True), ('published_at__isnull', True), _connector='OR'), name='guidance_unpublished_has_no_date'),
                ),
                migrations.AddConstraint(
                    model_name='modelguidanceversion',
                    constraint=models.UniqueConstraint(condition=models.Q(('status', 'published')), fields=('status',), name='guidance_one_published_version'),
                ),
                migrations.AddConstraint(
                    model_name='modelguidanceversion',
                    constraint=models.CheckConstraint(condition=models.Q(('approved_by__isnull', True), models.Q(('approved_by', models.F('created_by')), _negated=True), _connector='OR'), name='guidance_drafter_does_not_approve'),
                ),
                migrations.AddConstraint(
                    model_name='modelguidanceversion',
                    constraint=models.CheckConstraint(condition=models.Q(('approved_by__isnull', True), ('submitted_by__isnull', True), models.Q(('approved_by', models.F('submitted_by')), _negated=True), _connector='OR'), name='guidance_submitter_does_not_approve'),
                ),
                migrations.AddConstraint(
                    model_name='modelguidanceversion',
                    constraint=models.CheckConstraint(condition=models.Q(('published_by__isnull', True), models.Q(('published_by', models.F('created_by')), _negated=True), _connector='OR'), name='guidance_drafter_does_not_publish'),
                ),
                migrations.AddConstraint(
                    model_name='modelguidanceversion',
                    constraint=models.CheckConstraint(condition=models.Q(('published_by__isnull', True), ('submitted_by__isnull', True), models.Q(('published_by', models.F('submitted_by')), _negated=True), _connector='OR'), name='guidance_submitter_does_not_publish'),
                ),
                migrations.AddConstraint(
                    model_name='guidancesection',
                    constraint=models.UniqueConstraint(fields=('guidance_version', 'order'), name='guidance_section_order'),
                ),
                migrations.AddConstraint(
                    model_name='safeguardinglead',
                    constraint=models.UniqueConstraint(condition=models.Q(('active', True), ('role', 'dsl')), fields=('school',), name='guidance_one_active_dsl_per_school'),
                ),
                migrations.AddConstraint(
                    model_name='acknowledgement',
                    constraint=models.UniqueConstraint(fields=('guidance_version', 'school'), name='guidance_one_ack_per_school'),
                ),
            ],
        ),
        migrations.RunPython(relabel_content_types, relabel_back),
    ]
