# The model guidance moved to its own app (modelguidance 0001): the foreign keys now name it.
# State only: the column and the table it points at are unchanged.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('modelguidance', '0001_model_guidance_moved_from_guidance'),
        ('scrutiny', '0004_merge_20261204_0243'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name='appendix',
                    name='guidance_version',
                    field=models.ForeignKey(blank=True, help_text='For model guidance: the version put to the meeting (blank: the published one).', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='modelguidance.modelguidanceversion'),
                ),
                migrations.AlterField(
                    model_name='historicalappendix',
                    name='guidance_version',
                    field=models.ForeignKey(blank=True, db_constraint=False, help_text='For model guidance: the version put to the meeting (blank: the published one).', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='modelguidance.modelguidanceversion'),
                ),
                migrations.AlterField(
                    model_name='reportversion',
                    name='guidance_version',
                    field=models.ForeignKey(blank=True, help_text='The model guidance version its appendix carries.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='modelguidance.modelguidanceversion'),
                ),
            ],
        ),
    ]
