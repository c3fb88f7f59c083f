from django.urls import path

from records import views

app_name = "records"

urlpatterns = [
    path("", views.RecordsHomeView.as_view(), name="home"),
    path("legal-holds/new/", views.LegalHoldCreateView.as_view(), name="hold_create"),
    path("legal-holds/<int:hold_pk>/", views.LegalHoldView.as_view(), name="hold"),
    path("disposal-review/", views.DisposalReviewView.as_view(), name="disposal_review"),
    path("disposal-review/<int:candidate_pk>/", views.CandidateDecideView.as_view(), name="candidate"),
    path("disposal-batches/<int:batch_pk>/", views.DisposalBatchView.as_view(), name="batch"),
    path("subject-access/", views.SubjectAccessListView.as_view(), name="sars"),
    path("subject-access/new/", views.SubjectAccessCreateView.as_view(), name="sar_create"),
    path("subject-access/<int:sar_pk>/", views.SubjectAccessView.as_view(), name="sar"),
    path(
        "subject-access/<int:sar_pk>/redactions/",
        views.SubjectAccessRedactionsView.as_view(),
        name="sar_redactions",
    ),
    path(
        "subject-access/<int:sar_pk>/sign-off/", views.SubjectAccessSignOffView.as_view(), name="sar_sign_off"
    ),
]
