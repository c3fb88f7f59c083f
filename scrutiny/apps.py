from django.apps import AppConfig


class ScrutinyConfig(AppConfig):
    name = "scrutiny"
    verbose_name = "Scrutiny"

    def ready(self):
        from core import documents
        from scrutiny import packs
        from scrutiny.models import CabinetReport

        documents.register(
            "cabinet_report",
            model=CabinetReport,
            parts=packs.cabinet_report_parts,
            digest=packs.cabinet_report_digest,
            classification=packs.cabinet_report_classification,
            may_download_exempt=packs.user_may_download_exempt,
            may_view=packs.user_may_view,
            title=packs.cabinet_report_title,
            exempt_records=packs.cabinet_report_exempt_records,
        )
