from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self):
        import time

        from django.contrib.auth.signals import user_logged_in

        from core.middleware import SIGNED_IN_AT

        def remember_sign_in(sender, request, user, **kwargs):
            # The clock of the 12-hour absolute limit (core.middleware.SessionLifetimeMiddleware).
            if request is not None and hasattr(request, "session"):
                request.session[SIGNED_IN_AT] = time.time()

        user_logged_in.connect(remember_sign_in, dispatch_uid="core.remember_sign_in", weak=False)

        from django.db.models.signals import post_migrate

        from core.roles import role_permissions_sync

        # Each role's group holds exactly its permissions in core.roles.ROLE_PERMISSIONS.
        post_migrate.connect(role_permissions_sync, dispatch_uid="core.role_permissions_sync", weak=False)

        from celery.signals import task_postrun, task_prerun

        from core import logs

        scopes = {}

        def task_started(task_id=None, **kwargs):
            scopes[task_id] = (logs.start_scope(), logs.request_id_var.set(f"task-{task_id}"))

        def task_finished(task_id=None, **kwargs):
            scope, request_id = scopes.pop(task_id, (None, None))
            if scope is not None:
                logs.request_id_var.reset(request_id)
                logs.end_scope(scope)

        task_prerun.connect(task_started, dispatch_uid="core.task_log_scope_start", weak=False)
        task_postrun.connect(task_finished, dispatch_uid="core.task_log_scope_end", weak=False)
        from django.utils.module_loading import autodiscover_modules

        from core import checks  # noqa: F401 - registers the system checks
        from core.two_factor import throttle_cap

        throttle_cap()  # wrong second-factor codes delay the next try by 15 minutes at most

        # Each app's packs.py registers the documents it can export (core.documents.registry).
        autodiscover_modules("packs")
