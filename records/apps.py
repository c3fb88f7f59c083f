from django.apps import AppConfig


class RecordsConfig(AppConfig):
    """Records lifecycle: the retention schedule, legal holds, disposal review and disposal,
    and subject access requests.

    Above referrals and reviews (docs/adr/0019-layers.md): it disposes of what they hold only
    through what they register with ``core.retention``, and reads legal holds' scope (forms of
    abuse, named referrals) and subject access records from them."""

    name = "records"
    verbose_name = "Records lifecycle"

    def ready(self):
        from core import documents, exempt, retention
        from records import selectors, subject_access
        from records.models import Redaction, SubjectAccessRequest

        # Who asked, how they proved it, and what is withheld from them (other children's names).
        exempt.register(SubjectAccessRequest, ["subject", "requester_name", "identity_verified"])
        exempt.register(Redaction, ["text"])
        retention.register_not_per_record(
            SubjectAccessRequest,
            why="A subject access request is kept under its own schedule (disclosure log)",
        )
        retention.register_eraser("referral", subject_access.redactions_erase, erases=[Redaction])
        retention.register_disposals(selectors.disposals_of)

        documents.register(
            "subject_access_pack",
            model=SubjectAccessRequest,
            parts=subject_access.sar_pack_parts,
            digest=subject_access.sar_pack_digest,
            classification=subject_access.sar_pack_classification,
            may_download_exempt=subject_access.sar_pack_may_download,
            may_view=subject_access.sar_pack_may_view,
            title=subject_access.sar_pack_title,
            exempt_records=subject_access.sar_pack_records,
        )
