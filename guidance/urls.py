from django.urls import path

from guidance import views

app_name = "guidance"

urlpatterns = [
    path("", views.TimelineView.as_view(), name="timeline"),
]
