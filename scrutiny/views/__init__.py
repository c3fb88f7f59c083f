"""Scrutiny pages, one module per journey: thin views over scrutiny.services and scrutiny.selectors.

Readers (scrutiny.permissions.READERS) see the tracker and reports; report officers change
them. An exempt appendix's content is shown only to holders of a grant on the report in a
two-factor session, and every such read writes an access-log row.
"""

from __future__ import annotations

from scrutiny.views.appendices import (
    AppendixAddView,
    AppendixDetailView,
    AppendixEditView,
    AppendixFileView,
    AppendixPreviewView,
)
from scrutiny.views.reports import (
    DecisionView,
    DisclosureCheckView,
    ReportCreateView,
    ReportDetailView,
    ReportEditView,
    ReportGrantsView,
    ReportHistoryView,
    ReportListView,
    ReportPreviewView,
    ReportPublishView,
)
from scrutiny.views.tracker import (
    ActionAddView,
    ActionView,
    EvidenceAddView,
    RecommendationCreateView,
    RecommendationDetailView,
    RecommendationEditView,
    RecommendationHistoryView,
    ResponseView,
    TrackerExportView,
    TrackerView,
)

__all__ = [
    "ActionAddView",
    "ActionView",
    "AppendixAddView",
    "AppendixDetailView",
    "AppendixEditView",
    "AppendixFileView",
    "AppendixPreviewView",
    "DecisionView",
    "DisclosureCheckView",
    "EvidenceAddView",
    "RecommendationCreateView",
    "RecommendationDetailView",
    "RecommendationEditView",
    "RecommendationHistoryView",
    "ReportCreateView",
    "ReportDetailView",
    "ReportEditView",
    "ReportGrantsView",
    "ReportHistoryView",
    "ReportListView",
    "ReportPreviewView",
    "ReportPublishView",
    "ResponseView",
    "TrackerExportView",
    "TrackerView",
]
