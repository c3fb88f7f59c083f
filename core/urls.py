from django.urls import path

from core import notification_views, security_key_views, views

app_name = "core"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("accessibility/", views.AccessibilityView.as_view(), name="accessibility"),
    path("sign-in/code/", views.VerifyView.as_view(), name="verify"),
    path("account/two-factor/", views.TwoFactorSetupView.as_view(), name="two_factor_setup"),
    path("account/two-factor/replace/", views.TwoFactorReplaceView.as_view(), name="two_factor_replace"),
    path("account/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("account/set-password/<uidb64>/<token>/", views.PasswordSetView.as_view(), name="password_set"),
    path("two-factor-reset/", views.TwoFactorResetView.as_view(), name="two_factor_reset"),
    path("account/sign-in-methods/", security_key_views.SignInMethodsView.as_view(), name="sign_in_methods"),
    path(
        "account/security-keys/add/", security_key_views.SecurityKeyAddView.as_view(), name="security_key_add"
    ),
    path(
        "account/security-keys/<int:pk>/remove/",
        security_key_views.SecurityKeyRemoveView.as_view(),
        name="security_key_remove",
    ),
    path("notifications/", notification_views.NotificationsView.as_view(), name="notifications"),
    path(
        "notifications/<int:pk>/open/",
        notification_views.NotificationOpenView.as_view(),
        name="notification_open",
    ),
    path(
        "notifications/settings/",
        notification_views.NotificationPreferencesView.as_view(),
        name="notification_preferences",
    ),
    path("access-log/", views.AccessLogView.as_view(), name="access_log"),
    path("security-events/", views.SecurityEventsView.as_view(), name="security_events"),
    path("emergency-access/", views.BreakGlassReviewsView.as_view(), name="break_glass_reviews"),
    path("emergency-access/<int:entry_pk>/", views.BreakGlassReviewView.as_view(), name="break_glass_review"),
]
