from django.urls import path

from referrals import views

app_name = "referrals"

urlpatterns = [
    path("", views.TrayListView.as_view(), name="tray"),
    path("new/", views.ReferralCreateView.as_view(), name="create"),
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
    path("drafts/", views.DraftListView.as_view(), name="drafts"),
    path("export.csv", views.TrayExportView.as_view(), name="export"),
    path("import/", views.ImportUploadView.as_view(), name="import"),
    path("import/sample.csv", views.ImportSampleView.as_view(), name="import_sample"),
    path("import/<int:pk>/", views.ImportPreviewView.as_view(), name="import_preview"),
    path("children/<int:child_pk>/", views.ChildRecordView.as_view(), name="child"),
    path("<int:pk>/", views.ReferralDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.ReferralEditView.as_view(), name="edit"),
    path("<int:pk>/children/add/", views.ChildAddView.as_view(), name="add_child"),
    path("<int:pk>/screen/", views.ScreeningView.as_view(), name="screen"),
    path("<int:pk>/decide/", views.DecisionView.as_view(), name="decide"),
    path("<int:pk>/decision/amend/", views.AmendDecisionView.as_view(), name="amend_decision"),
    path("<int:pk>/decision/authorise/", views.AuthoriseDecisionView.as_view(), name="authorise_decision"),
    path("<int:pk>/allocate/", views.AllocateView.as_view(), name="allocate"),
    path("<int:pk>/close/", views.CloseView.as_view(), name="close"),
    path("<int:pk>/reopen/", views.ReopenView.as_view(), name="reopen"),
    path("<int:pk>/notes/add/", views.CaseNoteAddView.as_view(), name="add_note"),
    path("<int:pk>/history/", views.ReferralHistoryView.as_view(), name="history"),
    path("<int:pk>/grants/", views.GrantsView.as_view(), name="grants"),
    path("<int:pk>/restriction/", views.RestrictionView.as_view(), name="restriction"),
    path("<int:pk>/emergency-access/", views.BreakGlassView.as_view(), name="break_glass"),
    path("<int:pk>/access-log/", views.RecordAccessLogView.as_view(), name="access_log"),
]
