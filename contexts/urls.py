from django.urls import path

from contexts import views

app_name = "contexts"

urlpatterns = [
    path("alerts/", views.AlertListView.as_view(), name="alerts"),
    path("alerts/<int:alert_pk>/", views.AlertDetailView.as_view(), name="alert"),
    path("alerts/<int:alert_pk>/action/", views.AlertActionView.as_view(), name="alert_action"),
    path("", views.ContextListView.as_view(), name="contexts"),
    path("<int:context_pk>/", views.ContextDetailView.as_view(), name="context"),
    path("rules/", views.RuleListView.as_view(), name="rules"),
    path("rules/<int:rule_pk>/", views.RuleEditView.as_view(), name="rule_edit"),
    path("figures/", views.FiguresView.as_view(), name="figures"),
    path("figures/public/", views.PublicFiguresView.as_view(), name="figures_public"),
]
