from django.urls import path

from scrutiny import views

app_name = "scrutiny"

urlpatterns = [
    path("", views.TrackerView.as_view(), name="tracker"),
    path("export.csv", views.TrackerExportView.as_view(), name="export"),
    path("recommendations/new/", views.RecommendationCreateView.as_view(), name="recommendation_create"),
    path(
        "recommendations/<int:recommendation_pk>/",
        views.RecommendationDetailView.as_view(),
        name="recommendation",
    ),
    path(
        "recommendations/<int:recommendation_pk>/edit/",
        views.RecommendationEditView.as_view(),
        name="recommendation_edit",
    ),
    path(
        "recommendations/<int:recommendation_pk>/history/",
        views.RecommendationHistoryView.as_view(),
        name="recommendation_history",
    ),
    path("recommendations/<int:recommendation_pk>/response/", views.ResponseView.as_view(), name="response"),
    path(
        "recommendations/<int:recommendation_pk>/actions/new/",
        views.ActionAddView.as_view(),
        name="action_add",
    ),
    path(
        "recommendations/<int:recommendation_pk>/evidence/new/",
        views.EvidenceAddView.as_view(),
        name="evidence_add",
    ),
    path("actions/<int:action_pk>/", views.ActionView.as_view(), name="action"),
    path("reports/", views.ReportListView.as_view(), name="reports"),
    path("reports/new/", views.ReportCreateView.as_view(), name="report_create"),
    path("reports/<int:report_pk>/", views.ReportDetailView.as_view(), name="report"),
    path("reports/<int:report_pk>/edit/", views.ReportEditView.as_view(), name="report_edit"),
    path("reports/<int:report_pk>/disclosure/", views.DisclosureCheckView.as_view(), name="disclosure_check"),
    path("reports/<int:report_pk>/print-preview/", views.ReportPreviewView.as_view(), name="report_preview"),
    path("reports/<int:report_pk>/history/", views.ReportHistoryView.as_view(), name="report_history"),
    path("reports/<int:report_pk>/grants/", views.ReportGrantsView.as_view(), name="report_grants"),
    path("reports/<int:report_pk>/decision/", views.DecisionView.as_view(), name="decision"),
    path("reports/<int:report_pk>/publish/", views.ReportPublishView.as_view(), name="report_publish"),
    path("reports/<int:report_pk>/appendices/new/", views.AppendixAddView.as_view(), name="appendix_add"),
    path("appendices/<int:appendix_pk>/", views.AppendixDetailView.as_view(), name="appendix"),
    path("appendices/<int:appendix_pk>/edit/", views.AppendixEditView.as_view(), name="appendix_edit"),
    path(
        "appendices/<int:appendix_pk>/print-preview/",
        views.AppendixPreviewView.as_view(),
        name="appendix_preview",
    ),
    path("appendices/<int:appendix_pk>/file/", views.AppendixFileView.as_view(), name="appendix_file"),
]
