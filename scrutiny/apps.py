from django.apps import AppConfig


class ScrutinyConfig(AppConfig):
    name = "scrutiny"
    verbose_name = "Scrutiny"

    def ready(self):
        from core import documents, exempt
        from scrutiny import packs
        from scrutiny.models import Appendix, ExemptAppendixSnapshot, ReportVersion

        # An appendix marked exempt: its content (and the review a generated one is made from).
        exempt.register(
            Appendix,
            ["text", "file", "file_size", "file_pages", "review"],
            when=lambda appendix: appendix.exempt,
        )
        # A published exempt appendix's content, kept apart from the version's public rows.
        exempt.register(ExemptAppendixSnapshot, ["body_html"])

        from core import retention

        # Not about one referral: a report's exempt appendix is the council's paper, kept under
        # the committee papers' own schedule (docs/operations.md, Retention), not a referral's.
        retention.register_not_per_record(Appendix, why="A cabinet report's appendix (committee papers)")
        retention.register_not_per_record(
            ExemptAppendixSnapshot, why="A published report's exempt appendix (committee papers)"
        )

        # Packs are made only from a published (frozen) version of a report, never from the
        # live report: the same version always gives the same pack (scrutiny/packs.py).
        documents.register(
            "cabinet_report_version",
            model=ReportVersion,
            parts=packs.report_version_parts,
            digest=packs.report_version_digest,
            classification=packs.report_version_classification,
            may_download_exempt=packs.report_version_may_download_exempt,
            may_view=packs.report_version_may_view,
            title=packs.report_version_title,
            exempt_records=packs.report_version_exempt_records,
            exempt_access=packs.report_version_exempt_access,
        )
