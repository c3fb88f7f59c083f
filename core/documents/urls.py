from django.urls import path

from core.documents import views

app_name = "documents"

urlpatterns = [
    path("jobs/<int:pk>/", views.ExportJobView.as_view(), name="job"),
    path("jobs/<int:pk>/status/", views.ExportJobStatusView.as_view(), name="job_status"),
    path("jobs/<int:pk>/download/", views.ExportDownloadView.as_view(), name="download"),
    # After the job URLs: a document kind is never called "jobs".
    path("<slug:kind>/<int:object_id>/", views.ExportsView.as_view(), name="exports"),
]
