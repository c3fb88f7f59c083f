"""Production: every required variable has no default, so a bad deploy fails at start."""

from .base import *  # noqa: F403
from .base import (
    CELERY_VISIBILITY_TIMEOUT,
    STORAGES,
    env,
    redis_transport_options,
    webauthn_relying_party,
)

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
REDIS_URL = env.str("REDIS_URL")
SITE_URL = env.str("SITE_URL")
# Information governance's team mailbox hears of every security event (core.security_events):
# required, so no administrator can silence oversight by removing or disabling the role's holders.
SECURITY_ALERTS_EMAIL = env.str("SECURITY_ALERTS_EMAIL")
# The disposal register (records.services): required, so a restore can always dispose again of
# what was disposed of after its backup was taken. A file outside the database and MEDIA_ROOT, on
# storage with its own copies (docs/operations.md); base.py's default under VAR_DIR is for local runs.
DISPOSAL_REGISTER_PATH = env.str("DISPOSAL_REGISTER_PATH")
# Security keys are bound to the public address: a key added there works nowhere else.
OTP_WEBAUTHN_RP_ID, OTP_WEBAUTHN_ALLOWED_ORIGINS = webauthn_relying_party(SITE_URL)
CELERY_BROKER_URL = REDIS_URL
CELERY_BROKER_TRANSPORT_OPTIONS = redis_transport_options(CELERY_VISIBILITY_TIMEOUT)

# Files: S3-compatible object storage when a bucket is named (django-storages), else the
# local MEDIA_ROOT (a volume shared by web and worker containers).
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": True,
            "object_parameters": {"ServerSideEncryption": "AES256"},
        },
    }
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# The load balancer's health probe may speak plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
# Cookies: HTTPS only, out of reach of scripts, not sent on cross-site requests; the __Host-
# prefix makes the browser refuse them unless Secure, for this host alone, on path /.
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_NAME = "__Host-csrftoken"
SECURE_HSTS_SECONDS = 31_536_000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
