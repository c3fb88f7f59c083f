"""After a restore: dispose again of what the disposal register says was disposed of."""

from django.core.management.base import BaseCommand

from records.services import disposals_reapply


class Command(BaseCommand):
    help = (
        "Re-apply disposals from the disposal register (run after every restore, before opening the service)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--register", help="The register's path (default: DISPOSAL_REGISTER_PATH).")

    def handle(self, *args, register=None, **options):
        done = disposals_reapply(path=register)
        self.stdout.write(
            f"Disposed of again: {len(done)} record(s)" + (f": {', '.join(done)}" if done else "")
        )
