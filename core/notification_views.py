"""The notifications list, opening one, and each user's choice of e-mail (core.notifications)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from core import notifications
from core.forms import DeliveryForm
from core.models import Notification, NotificationPreference


class NotificationsView(LoginRequiredMixin, View):
    """The signed-in user's own notifications, newest first; POST marks one or all read."""

    template_name = "core/notifications.html"

    def get(self, request):
        page = Paginator(notifications.notifications_for(user=request.user), 50).get_page(
            request.GET.get("page")
        )
        for notification in page.object_list:
            notification.kind_label = notifications.kind_label(notification.kind)
        return render(
            request,
            self.template_name,
            {
                "page": page,
                "unread": notifications.unread_count(user=request.user),
                "delivery": NotificationPreference.Delivery(
                    notifications.delivery_for(user=request.user)
                ).label,
            },
        )

    def post(self, request):
        target = request.POST.get("read", "")
        if target == "all":
            count = notifications.notifications_mark_read(user=request.user)
            messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked as read")
        elif target.isdigit():
            notifications.notifications_mark_read(user=request.user, notification_id=int(target))
            messages.success(request, "The notification is marked as read")
        return redirect("core:notifications")


class NotificationOpenView(LoginRequiredMixin, View):
    """Open a notification's record and mark it read (POST, so a link prefetch marks nothing)."""

    def post(self, request, pk: int):
        notification = get_object_or_404(Notification, pk=pk, user=request.user)
        notifications.notifications_mark_read(user=request.user, notification_id=notification.pk)
        target = notification.url
        if not target or not url_has_allowed_host_and_scheme(target, allowed_hosts=None):
            target = reverse("core:notifications")
        return redirect(target)


class NotificationPreferencesView(LoginRequiredMixin, View):
    template_name = "core/notification_preferences.html"

    def get(self, request):
        form = DeliveryForm(initial={"delivery": notifications.delivery_for(user=request.user)})
        return render(request, self.template_name, {"form": form, "error_forms": [form]})

    def post(self, request):
        form = DeliveryForm(request.POST)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form, "error_forms": [form]}, status=400)
        notifications.notification_preference_set(user=request.user, delivery=form.cleaned_data["delivery"])
        messages.success(request, "Your choice of e-mail is saved")
        return redirect("core:notifications")
