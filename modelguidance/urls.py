from django.urls import path

from modelguidance import views

# Mounted under /guidance/ beside the DfE guidance library (config/urls.py): the addresses
# schools were sent stay the same.
app_name = "modelguidance"

urlpatterns = [
    # The council's model guidance for schools: versions and their lifecycle (staff).
    path("model/", views.VersionListView.as_view(), name="versions"),
    path("model/<int:pk>/", views.VersionDetailView.as_view(), name="version_detail"),
    path("model/<int:pk>/edit/", views.VersionEditView.as_view(), name="version_edit"),
    path("model/<int:pk>/submit/", views.VersionSubmitView.as_view(), name="version_submit"),
    path("model/<int:pk>/equality-impact/", views.VersionEqiaView.as_view(), name="version_eqia"),
    path(
        "model/<int:pk>/equality-impact/file/", views.VersionEqiaFileView.as_view(), name="version_eqia_file"
    ),
    path("model/<int:pk>/approve/", views.VersionApproveView.as_view(), name="version_approve"),
    path("model/<int:pk>/publish/", views.VersionPublishView.as_view(), name="version_publish"),
    path("model/<int:pk>/compare/", views.VersionCompareView.as_view(), name="version_compare"),
    path(
        "model/<int:pk>/acknowledgements/",
        views.VersionAcknowledgementsView.as_view(),
        name="version_acknowledgements",
    ),
    # Schools' designated safeguarding leads and their training.
    path("schools/training/", views.CoverageView.as_view(), name="coverage"),
    path("schools/training/reminders/", views.TrainingRemindersView.as_view(), name="training_reminders"),
    path("schools/<int:school_pk>/training/", views.SchoolCoverageView.as_view(), name="school_coverage"),
    # Public: no sign-in.
    path("model-guidance/", views.PublishedGuidanceView.as_view(), name="published"),
    path("model-guidance.pdf", views.PublishedGuidancePdfView.as_view(), name="published_pdf"),
    path("acknowledge/<str:urn>/<str:token>/", views.AcknowledgeView.as_view(), name="acknowledge"),
]
