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
]
