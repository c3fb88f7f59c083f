from django.urls import path

from guidance import views

app_name = "guidance"

urlpatterns = [
    path("", views.TimelineView.as_view(), name="timeline"),
    # Public: no sign-in. The model guidance's pages share this prefix (modelguidance/urls.py).
    path("what-is-peer-on-peer-abuse/", views.DefinitionsView.as_view(), name="definitions"),
]
