"""Referral pages, one module per journey; urls.py names them from here."""

from __future__ import annotations

from referrals.views.access import BreakGlassView, GrantsView, RestrictionView
from referrals.views.decisions import (
    AmendDecisionView,
    AuthoriseDecisionView,
    CloseView,
    DecisionView,
    ReopenView,
    ScreeningView,
)
from referrals.views.imports import ImportPreviewView, ImportSampleView, ImportUploadView
from referrals.views.intake import ChildAddView, DraftListView, ReferralCreateView, ReferralEditView
from referrals.views.manager import AllocateView, DashboardView
from referrals.views.record import (
    CaseNoteAddView,
    ChildRecordView,
    RecordAccessLogView,
    ReferralDetailView,
    ReferralHistoryView,
)
from referrals.views.tray import TrayExportView, TrayListView

__all__ = [
    "AllocateView",
    "AmendDecisionView",
    "AuthoriseDecisionView",
    "BreakGlassView",
    "CaseNoteAddView",
    "ChildAddView",
    "ChildRecordView",
    "CloseView",
    "DashboardView",
    "DecisionView",
    "DraftListView",
    "GrantsView",
    "ImportPreviewView",
    "ImportSampleView",
    "ImportUploadView",
    "RecordAccessLogView",
    "ReferralCreateView",
    "ReferralDetailView",
    "ReferralEditView",
    "ReferralHistoryView",
    "ReopenView",
    "RestrictionView",
    "ScreeningView",
    "TrayExportView",
    "TrayListView",
]
