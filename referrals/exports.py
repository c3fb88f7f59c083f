"""CSV export of the work tray. Identities appear only for rows the user may see, and each
such row writes one access-log entry."""

from __future__ import annotations

import csv
import io

from django.db.models import Prefetch, QuerySet
from django.http import HttpResponse
from django.utils import timezone

from core.access_log import record_access_many
from core.exempt import MASK, field_labels
from core.models import AccessLogEntry
from core.permissions import exempt_ids
from core.spreadsheets import safe_row
from core.timescales import age_on
from referrals.models import Child, Referral, ReferralChild, ReferralDecision, ReferralDetail

EXPORT_LIMIT = 10_000
PSEUDONYMOUS_COLUMNS = [
    "Reference",
    "Received",
    "Source",
    "Forms of abuse",
    "Peer-on-peer",
    "Incident date",
    "Location",
    "Status",
    "RAG",
    "Decision due",
    "Overdue",
    "Latest outcome",
    "Decided within timescale",
    "Children (label, role, age at incident, school phase)",
]
EXEMPT_COLUMNS = ["Children's names, dates of birth and schools", "Referrer", "What was reported"]
#: The exempt fields those columns hold: what each identifiable row's access-log entry names.
EXEMPT_COLUMN_FIELDS = {
    Child: ["first_name", "last_name", "date_of_birth", "school"],
    ReferralDetail: ["referrer_name", "referrer_role", "referrer_organisation", "narrative"],
}


def tray_csv_response(*, request, user, queryset: QuerySet[Referral]) -> HttpResponse:
    now = timezone.now()
    rows = list(
        queryset.order_by("-received_at", "-pk")
        .select_related("source", "rag", "detail")
        .prefetch_related(
            "forms_of_abuse",
            Prefetch(
                "children", queryset=ReferralChild.objects.select_related("child__school").order_by("label")
            ),
            Prefetch("decisions", queryset=ReferralDecision.objects.prefetch_related("outcomes")),
        )[:EXPORT_LIMIT]
    )
    identifiable = exempt_ids(Referral, user=user, ids=[r.pk for r in rows])
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(PSEUDONYMOUS_COLUMNS + EXEMPT_COLUMNS)
    for referral in rows:
        children = list(referral.children.all())
        decisions = list(referral.decisions.all())
        latest = next((d for d in decisions if d.status == ReferralDecision.Status.IN_FORCE), None)
        pseudonymous = [
            referral.reference,
            timezone.localtime(referral.received_at).strftime("%Y-%m-%d %H:%M"),
            referral.source.name,
            "; ".join(f.name for f in referral.forms_of_abuse.all()),
            "Yes" if referral.is_peer_on_peer else "No",
            referral.incident_date.isoformat(),
            referral.get_location_display(),
            referral.get_status_display(),
            referral.rag.name if referral.rag else "",
            timezone.localtime(referral.decision_due_at).strftime("%Y-%m-%d %H:%M"),
            "Yes" if referral.is_open and referral.decision_due_at < now else "No",
            "; ".join(o.name for o in latest.outcomes.all()) if latest else "",
            ("Yes" if latest.within_timescale else "No") if latest else "",
            "; ".join(
                f"{c.label} {c.get_role_display()} {age_on(c.child.date_of_birth, referral.incident_date)} "
                f"{c.child.school.get_phase_display() if c.child.school else 'school not known'}"
                for c in children
            ),
        ]
        if referral.pk in identifiable:
            detail = referral.detail
            exempt = [
                "; ".join(
                    f"{c.label}: {c.child.first_name} {c.child.last_name}, "
                    f"born {c.child.date_of_birth:%Y-%m-%d}, "
                    f"{c.child.school.name if c.child.school else 'school not known'}"
                    for c in children
                ),
                ", ".join(
                    x for x in (detail.referrer_name, detail.referrer_role, detail.referrer_organisation) if x
                ),
                detail.narrative,
            ]
        else:
            exempt = [MASK] * len(EXEMPT_COLUMNS)
        writer.writerow(safe_row(pseudonymous + exempt))
    record_access_many(
        request=request,
        user=user,
        records=[(r, r.reference) for r in rows if r.pk in identifiable],
        fields=field_labels(EXEMPT_COLUMN_FIELDS),
        channel=AccessLogEntry.Channel.EXPORT,
    )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="referrals-{now:%Y%m%d-%H%M}.csv"'
    response["Cache-Control"] = "no-store"
    return response
