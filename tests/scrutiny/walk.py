"""Scrutiny records for the URL walks (tests/test_access.py, tests/test_exempt_leak.py)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from core.roles import Role
from scrutiny import services
from tests.scrutiny.helpers import add_appendix, make_report, meetings, pdf_upload, publish


def scrutiny_walk_ids(role_user, *, review=None, canary: str = "") -> dict[str, int]:
    """A recommendation with an action, and a report by another officer.

    Without ``canary``: the walked appendix is a public uploaded PDF (so its file page
    answers). With it: the walked appendix is exempt and holds the canary, an exempt case
    list of ``review`` follows it, and the canary is in nothing public.
    """
    officer = role_user(Role.REPORT_OFFICER, username="walk-officer")
    scrutiny_meeting, _, item = meetings()
    rec = services.recommendation_create(
        user=officer,
        data=services.RecommendationInput(
            source="scrutiny", text="Strengthen training", meeting=scrutiny_meeting, agenda_item=item
        ),
    )
    action = services.action_add(
        user=officer,
        recommendation_id=rec.pk,
        expected_version=rec.version,
        description="Train every DSL",
        owner="Learning and achievement",
        due_date=timezone.localdate() + dt.timedelta(days=60),
    )
    report = make_report(officer)
    if canary:
        appendix = add_appendix(
            officer,
            report,
            title="Historic cases",
            text=f"Exempt detail {canary} about a child",
            exempt=True,
            schedule_12a_paragraph=2,
            public_interest="Reveals the identity of children",
        )
        if review is not None:
            add_appendix(
                officer,
                report,
                kind="exempt_case_list",
                title="Cases by name",
                review=review,
                exempt=True,
                schedule_12a_paragraph=2,
                public_interest="Names children",
            )
        # The canary also goes into an appendix's history: changed while exempt.
        appendix.refresh_from_db()
        services.appendix_update(
            user=officer,
            appendix_id=appendix.pk,
            expected_version=appendix.version,
            data=services.AppendixInput(
                kind="text",
                title="Historic cases",
                text=f"Changed exempt detail {canary}",
                exempt=True,
                schedule_12a_paragraph=2,
                public_interest="Reveals the identity of children",
            ),
        )
    else:
        appendix = add_appendix(officer, report, kind="uploaded_pdf", title="CSO report", upload=pdf_upload())
    # The papers published for the meeting: a frozen version (its exempt content kept apart).
    version = publish(officer, report)
    return {
        "report_version_pk": version.pk,
        "recommendation_pk": rec.pk,
        "action_pk": action.pk,
        "report_pk": report.pk,
        "appendix_pk": appendix.pk,
    }
