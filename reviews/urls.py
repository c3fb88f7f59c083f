from django.urls import path

from reviews.views import findings, workflow

app_name = "reviews"

urlpatterns = [
    path("", workflow.ReviewListView.as_view(), name="list"),
    path("new/", workflow.ReviewCreateView.as_view(), name="create"),
    path("<int:pk>/", workflow.ReviewDetailView.as_view(), name="detail"),
    path("<int:pk>/screening/", workflow.ScreeningView.as_view(), name="screening"),
    path("<int:pk>/assignment/", workflow.AssignmentView.as_view(), name="assignment"),
    path("<int:pk>/advance/", workflow.AdvanceView.as_view(), name="advance"),
    path("<int:pk>/moderation/", workflow.ModerationView.as_view(), name="moderation"),
    path("assessments/<int:assessment_pk>/", workflow.AssessmentView.as_view(), name="assessment"),
    path("<int:pk>/findings/", findings.FindingsView.as_view(), name="findings"),
    path("<int:pk>/report/", findings.ReviewReportView.as_view(), name="report"),
    path("<int:pk>/case-details/", findings.CaseDetailsView.as_view(), name="case_details"),
]
