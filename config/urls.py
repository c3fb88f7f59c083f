from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from core.views import SignInView, healthz

urlpatterns = [
    path("healthz/", healthz, name="healthz"),
    path("", include("core.urls")),
    path("referrals/", include("referrals.urls")),
    path("guidance/", include("guidance.urls")),
    path("guidance/", include("modelguidance.urls")),  # same prefix: the addresses do not change
    path("reviews/", include("reviews.urls")),
    path("documents/", include("core.documents.urls")),
    path("scrutiny/", include("scrutiny.urls")),
    path("records/", include("records.urls")),
    path("contexts/", include("contexts.urls")),
    path("account/security-keys/webauthn/", include("core.security_key_urls")),
    path(
        "sign-in/",
        SignInView.as_view(),
        name="login",
    ),
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
