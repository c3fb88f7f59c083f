"""Print the current two-factor code of a demo account (local demo only)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = "Print the current authenticator code of a demo account, e.g. `manage.py demo_code practitioner`."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        if not settings.DEBUG:
            raise CommandError("Demo codes are for local use: run with DEBUG on.")
        device = TOTPDevice.objects.filter(user__username=username, name="Demo authenticator").first()
        if device is None:
            raise CommandError(f"No demo authenticator for {username!r}. Run `manage.py seed_demo` first.")
        code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
        self.stdout.write(f"{code:0{device.digits}d}")
