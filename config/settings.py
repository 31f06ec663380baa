"""All settings come from the environment (or a `.env` file beside manage.py)."""

from pathlib import Path

import environ
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key" if DEBUG else environ.Env.NOTSET)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

PRODUCT_NAME = "Customer Back Office"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_filters",
    "import_export",
    # Before django_q: its `qcluster` command replaces django-q2's.
    "customers",
    "django_q",
    "axes",
    "csp",
    "segments",
    "loyalty",
    "privacy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before the sessions: in degraded mode even they are read from a replica.
    "customers.replicas.ReplicaMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "customers.tenancy.CurrentBusinessMiddleware",
    "customers.tenancy.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "customers.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite as a real embedded database for `make run`, with a worker writing beside the web
    # server: in WAL mode readers never block the writer; a write transaction takes the write
    # lock when it begins (IMMEDIATE), waiting up to `timeout` seconds for another one to end,
    # instead of failing with "database is locked" when a read turns into a write.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": env.int("SQLITE_TIMEOUT", default=20),
        **DATABASES["default"].get("OPTIONS", {}),
    }
# A database that is down fails the request at once, so that degraded mode can take over.
CONNECT_TIMEOUT = env.int("DATABASE_CONNECT_TIMEOUT", default=3)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", CONNECT_TIMEOUT)
# Read replicas (customers/replicas.py): streaming replicas of the primary, named replica_1,
# replica_2... Only the reads that opt in go there. The test suite reads their aliases from
# the primary's test database, as a replica has no database of its own to create.
DATABASE_REPLICAS = []
for number, url in enumerate(env.list("DATABASE_REPLICA_URLS", default=[]), start=1):
    replica = env.db_url_config(url)
    replica.update(
        CONN_MAX_AGE=DATABASES["default"]["CONN_MAX_AGE"],
        CONN_HEALTH_CHECKS=True,
        OPTIONS={"connect_timeout": CONNECT_TIMEOUT, **replica.get("OPTIONS", {})},
        TEST={"MIRROR": "default"},
    )
    DATABASES[f"replica_{number}"] = replica
    DATABASE_REPLICAS.append(f"replica_{number}")
DATABASE_ROUTERS = ["customers.replicas.ReplicaRouter"]
# A replica further behind than this serves no reads (unless the primary is down).
REPLICA_MAX_LAG_SECONDS = env.float("REPLICA_MAX_LAG_SECONDS", default=30)
# How long a process trusts its last look at the primary and the replicas.
REPLICA_CHECK_SECONDS = env.float("REPLICA_CHECK_SECONDS", default=5)
# After a browser's write, its next requests read from the primary for this long, so the
# page it is sent to shows what it just changed however far the replicas lag.
REPLICA_PIN_SECONDS = env.int("REPLICA_PIN_SECONDS", default=15)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "customers.tenancy.MembershipRoleBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "var" / "static")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Security. Production is the default; `make run` sets DEBUG=1 in .env.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 12)
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = env.list("SILENCED_SYSTEM_CHECKS", default=[])

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        # Django admin widgets set inline style attributes; scripts stay strict.
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}

# Login throttling (customers/login_throttle.py): a username is locked at one client address
# after AXES_FAILURE_LIMIT failures there, and the address for every username only after
# AXES_ADDRESS_FAILURE_LIMIT failures, so one person's typos never lock out the colleagues
# who share an office's address. The address is REMOTE_ADDR unless AXES_PROXY_COUNT trusted
# proxies sit in front, so a client cannot dodge the lock by rotating X-Forwarded-For.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_ADDRESS_FAILURE_LIMIT = env.int("AXES_ADDRESS_FAILURE_LIMIT", default=100)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_MINUTES", default=15) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "customers.login_throttle.LoginThrottle"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_CALLABLE = "customers.login_throttle.lockout_response"
AXES_IPWARE_PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=0) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if env.int("AXES_PROXY_COUNT", default=0) else ["REMOTE_ADDR"]
)

# Import and export (django-import-export in the admin, Customers › Import/Export in the app).
# Each model's own import_<model>/export_<model> permission, given to the owner role.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "import"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "export"
IMPORT_MAX_FILE_BYTES = env.int("IMPORT_MAX_FILE_BYTES", default=50 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=1_000_000)
# An XLSX file is a zip: its unpacked size is capped too (a zip bomb unpacks to gigabytes).
IMPORT_MAX_XLSX_UNPACKED_BYTES = env.int("IMPORT_MAX_XLSX_UNPACKED_BYTES", default=500 * 1024 * 1024)
# Bigger files are checked and imported by a background job.
IMPORT_SYNC_MAX_ROWS = env.int("IMPORT_SYNC_MAX_ROWS", default=1000)
# Bigger exports are written to a file by a background job.
EXPORT_SYNC_MAX_ROWS = env.int("EXPORT_SYNC_MAX_ROWS", default=10_000)
EXPORT_FILE_DAYS = env.int("EXPORT_FILE_DAYS", default=7)
IMPORT_FILE_DAYS = env.int("IMPORT_FILE_DAYS", default=7)
# A running job reports after every chunk; one silent this long lost its worker (the sweeper
# fails it), and one queued this long without a worker taking it has its task queued again.
JOB_STALE_SECONDS = env.int("JOB_STALE_SECONDS", default=300)
# A soft-deleted customer may be restored for this many days; then the nightly retention
# task anonymizes them (privacy.services.retention).
SOFT_DELETE_RESTORE_DAYS = env.int("SOFT_DELETE_RESTORE_DAYS", default=30)
# A segment recalculation runs in one transaction, without a heartbeat: on PostgreSQL its
# statements stop at this timeout, below JOB_STALE_SECONDS, so it fails on its own.
SEGMENT_RECALCULATION_TIMEOUT_SECONDS = env.int("SEGMENT_RECALCULATION_TIMEOUT_SECONDS", default=240)
SEGMENT_RECALCULATION_WORK_MEM = env.str("SEGMENT_RECALCULATION_WORK_MEM", default="64MB")
# Bulk actions on more customers than this run as a job with progress.
BULK_ACTION_SYNC_MAX = env.int("BULK_ACTION_SYNC_MAX", default=1000)
# A segment preview's queries stop after this long on PostgreSQL and say so.
SEGMENT_PREVIEW_TIMEOUT_MS = env.int("SEGMENT_PREVIEW_TIMEOUT_MS", default=1000)

# Webhooks (customers.services.webhooks). Deliveries to loopback, link-local and private
# addresses, and plain http://, only when this is on (development: on with DEBUG).
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=DEBUG)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5.0)
# Events and their delivery log are kept this many days.
WEBHOOK_RETENTION_DAYS = env.int("WEBHOOK_RETENTION_DAYS", default=30)

# The API's rate limit counts calls per key in the "ratelimit" cache. Several web nodes
# must share it: set CACHE_REDIS_URL (the counters are a few bytes per key and minute).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "ratelimit": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env.str("CACHE_REDIS_URL")}
        if env.str("CACHE_REDIS_URL", default="")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "ratelimit"}
    ),
}
RATELIMIT_USE_CACHE = "ratelimit"

# Background tasks (django-q2). The ORM broker needs nothing beyond the database;
# set Q_BROKER=redis to use REDIS_URL instead, for several qcluster machines on one queue.
# Redis does not acknowledge deliveries: the tasks a killed cluster had taken are lost, and
# the job sweeper queues them again after JOB_STALE_SECONDS (customers.jobs).
Q_TIMEOUT = env.int("Q_TIMEOUT", default=1800)
Q_CLUSTER = {
    "name": "backoffice",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": Q_TIMEOUT,
    "retry": Q_TIMEOUT + 300,
    "max_attempts": env.int("Q_MAX_ATTEMPTS", default=3),
    "ack_failures": True,
    "save_limit": 1000,
    "catch_up": False,
    "sync": env.bool("Q_SYNC", default=False),
}
if env.str("Q_BROKER", default="orm") == "redis":
    Q_CLUSTER["redis"] = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
else:
    Q_CLUSTER["orm"] = "default"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's own logging gives `django` a console handler too; its records also reach
        # the root's, which printed each of them (such as runserver's "Watching for file
        # changes") twice. Without a handler or level of its own, `django` follows the root.
        "django": {"handlers": [], "level": "NOTSET"},
        "django_q": {"level": env.str("Q_LOG_LEVEL", default="WARNING")},
    },
}
