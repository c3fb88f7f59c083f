from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self):
        from django.utils.module_loading import autodiscover_modules

        from core import checks  # noqa: F401 - registers the system checks

        # Each app's packs.py registers the documents it can export (core.documents.registry).
        autodiscover_modules("packs")
