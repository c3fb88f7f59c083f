"""The security-key ceremonies, under the names django-otp-webauthn's template tags reverse.

The package's own URLconf is not included: its views here carry this project's rules
(core.security_key_views), and its JavaScript translation catalogue is replaced by a static
file (static/js/webauthn-gettext.js), so every script the pages load is a static file.
"""

from django.urls import path

from core import security_key_views as views

app_name = "otp_webauthn"

urlpatterns = [
    path("registration/begin/", views.RegistrationBeginView.as_view(), name="credential-registration-begin"),
    path(
        "registration/complete/",
        views.RegistrationCompleteView.as_view(),
        name="credential-registration-complete",
    ),
    path(
        "authentication/begin/",
        views.AuthenticationBeginView.as_view(),
        name="credential-authentication-begin",
    ),
    path(
        "authentication/complete/",
        views.AuthenticationCompleteView.as_view(),
        name="credential-authentication-complete",
    ),
]
