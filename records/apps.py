from django.apps import AppConfig


class RecordsConfig(AppConfig):
    """Records lifecycle: the retention schedule, legal holds, disposal review and disposal.

    Above referrals and reviews (docs/adr/0019-layers.md): it disposes of what they hold only
    through what they register with ``core.retention``, and reads legal holds' scope (forms of
    abuse, named referrals) from referrals."""

    name = "records"
    verbose_name = "Records lifecycle"
