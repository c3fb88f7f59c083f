from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from core.views import SignInView

urlpatterns = [
    path("", include("core.urls")),
    path("referrals/", include("referrals.urls")),
    path("guidance/", include("guidance.urls")),
    path("reviews/", include("reviews.urls")),
    path(
        "sign-in/",
        SignInView.as_view(),
        name="login",
    ),
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]

handler400 = "core.views.bad_request"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
