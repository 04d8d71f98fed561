"""Settings, read from environment variables.

Development defaults work with nothing set (SQLite, local media folder, tasks run
inline, embedded vector index). Production (DJANGO_ENV=production) has no
default for secrets and refuses to start without them.
"""

from pathlib import Path
from typing import Any

import environ

from config.logs import logging_config
from config.sentry import init_sentry

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env file is a convenience for development; production passes real variables.
env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
PRODUCTION = DJANGO_ENV == "production"

if PRODUCTION:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")  # no default: fail at start
else:
    SECRET_KEY = env.str(
        "DJANGO_SECRET_KEY", default="dev-insecure-key-only-for-local-development-0123456789"
    )
DEBUG = env.bool("DJANGO_DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"]
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    # Swagger UI's files served from here (no CDN): /api/docs/ works offline and under the CSP.
    "drf_spectacular_sidecar",
    "corsheaders",
    "storages",
    "config.apps.ProjectConfig",
    "catalog",
    "search",
    "workers",
    "frontend",
    "webhooks",
    "analytics",
    "merchandising",
]

MIDDLEWARE = [
    # First, so that the time spent in the other middleware counts too.
    "config.metrics.PrometheusMiddleware",
    # Before everything that logs, so that each line of the request carries its id.
    "config.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database: PostgreSQL when DATABASE_URL is set, an SQLite file otherwise.
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'demo.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Several threads (dev server, inline tasks) share one file: wait instead of failing.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20}
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))

# --- Files: S3 (or MinIO) when a bucket is named, the local media folder otherwise.
MEDIA_URL = env.str("MEDIA_URL", default="/media/")
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="") or None
AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="") or None
AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default="") or None
AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default="") or None
# A private bucket gets presigned URLs; a public one (or a CDN) plain ones.
AWS_QUERYSTRING_AUTH = env.bool("AWS_QUERYSTRING_AUTH", default=True)
AWS_QUERYSTRING_EXPIRE = env.int("AWS_QUERYSTRING_EXPIRE", default=3600)
AWS_S3_CUSTOM_DOMAIN = env.str("AWS_S3_CUSTOM_DOMAIN", default="") or None
AWS_DEFAULT_ACL = None
AWS_S3_FILE_OVERWRITE = False

_default_storage: dict[str, Any]
if AWS_STORAGE_BUCKET_NAME:
    _default_storage = {"BACKEND": "storages.backends.s3.S3Storage"}
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": MEDIA_URL},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=not AWS_STORAGE_BUCKET_NAME)

# --- Image intake limits (merchant uploads and shopper photos alike).
MAX_UPLOAD_BYTES = env.int("MAX_UPLOAD_BYTES", default=15 * 1024 * 1024)
MAX_IMAGE_PIXELS = env.int("MAX_IMAGE_PIXELS", default=40_000_000)
# Django refuses request bodies above this before our own checks run; leave room for the form.
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES + 1024 * 1024
# A form never needs more; without a cap each field or file part is parsed and kept.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
DATA_UPLOAD_MAX_NUMBER_FILES = 20
# Shopper photos only feed CLIP (224-336 px): a budget well below the merchant cap, checked
# from the header before any pixel is decoded (a 1.5 KB lossless WebP can declare 40 MP).
MAX_QUERY_IMAGE_PIXELS = env.int("MAX_QUERY_IMAGE_PIXELS", default=16_000_000)
# Photo decodes running at once in one web process; more wait briefly, then get a 503.
QUERY_IMAGE_DECODES = env.int("QUERY_IMAGE_DECODES", default=2)
# JSON request bodies: bytes and nesting (a 400 names the limit; 5,000 levels broke the parser).
MAX_JSON_BODY_BYTES = env.int("MAX_JSON_BODY_BYTES", default=1024 * 1024)
JSON_MAX_DEPTH = 20

# --- Celery: Redis broker in production; tasks run inline when CELERY_TASK_ALWAYS_EAGER.
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not PRODUCTION)
CELERY_TASK_EAGER_PROPAGATES = False
EMBEDDING_QUEUE = env.str("EMBEDDING_QUEUE", default="embeddings")
CELERY_WORKER_CONCURRENCY = env.int("CELERY_WORKER_CONCURRENCY", default=2)
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env.int("CELERY_WORKER_MAX_MEMORY_PER_CHILD", default=0)
EMBED_TASK_SOFT_TIME_LIMIT = env.int("EMBED_TASK_SOFT_TIME_LIMIT", default=300)
EMBED_TASK_TIME_LIMIT = env.int("EMBED_TASK_TIME_LIMIT", default=360)
SWEEP_INTERVAL_SECONDS = env.int("SWEEP_INTERVAL_SECONDS", default=600)
# The outbox of index work (search/index/outbox.py): how often the relay takes what the
# fast path missed, for how long one relay run works, and how long a worker's claim on a
# row lasts (it outlives the task's hard time limit, so only a dead worker's claim expires).
# Load the search models in a background thread as the process starts (make demo sets it for
# runserver; gunicorn workers have GUNICORN_WARM_MODELS).
WARM_MODELS_AT_START = env.bool("WARM_MODELS_AT_START", default=False)
INDEX_RELAY_INTERVAL_SECONDS = env.float("INDEX_RELAY_INTERVAL_SECONDS", default=5.0)
INDEX_RELAY_BUDGET_SECONDS = env.float("INDEX_RELAY_BUDGET_SECONDS", default=30.0)
INDEX_OUTBOX_LEASE_SECONDS = env.float(
    "INDEX_OUTBOX_LEASE_SECONDS", default=EMBED_TASK_TIME_LIMIT + 60.0
)
# Failed work is due again after 2, 4, 8, ... seconds, at most this long.
INDEX_OUTBOX_MAX_BACKOFF_SECONDS = env.float("INDEX_OUTBOX_MAX_BACKOFF_SECONDS", default=300.0)
SWEEP_PENDING_AFTER_SECONDS = env.int("SWEEP_PENDING_AFTER_SECONDS", default=900)

# --- Models.
CLIP_MODEL = env.str("CLIP_MODEL", default="openai/clip-vit-base-patch32")
# Pinned so that every worker computes the same vectors; "main" only for experiments.
CLIP_MODEL_REVISION = env.str(
    "CLIP_MODEL_REVISION", default="3d74acf9a28c67741b2f4f2ea7635f0aaf6f0268"
)
# Deprecated: CLIP_QUANTIZE_INT8=true is read as CLIP_PRECISION=int8 when CLIP_PRECISION is unset.
CLIP_QUANTIZE_INT8 = env.bool("CLIP_QUANTIZE_INT8", default=False)
# Encoder precision (search/encoding/precision.py): auto, fp32, bf16 or int8. auto picks what the
# CPU or GPU runs fastest; every mode but fp32 is checked at load against fp32 on a calibration
# batch and falls back to fp32 under PRECISION_MIN_COSINE.
CLIP_PRECISION = env.str("CLIP_PRECISION", default="int8" if CLIP_QUANTIZE_INT8 else "auto")
TEXT_PRECISION = env.str("TEXT_PRECISION", default="auto")
PRECISION_MIN_COSINE = env.float("PRECISION_MIN_COSINE", default=0.99)
# What the text towers (CLIP text, the text model) run on (search/encoding/onnx_runtime.py):
# auto or onnx (ONNX Runtime on a CPU in fp32 or int8, checked at load like a precision; torch
# where it cannot run) or torch. Exports are kept in ONNX_CACHE_DIR, per model revision.
TEXT_RUNTIME = env.str("TEXT_RUNTIME", default="auto")
ONNX_CACHE_DIR = Path(env.str("ONNX_CACHE_DIR", default=str(VAR_DIR / "onnx")))
CLIP_DEVICE = env.str("CLIP_DEVICE", default="auto")  # "cpu", "cuda", "cuda:N" or "auto"
TORCH_THREADS = env.int("TORCH_THREADS", default=0)  # 0: torch's own choice
EMBED_BATCH_SIZE = env.int("EMBED_BATCH_SIZE", default=16)
# Image index work arriving one upload at a time: how long the embedding worker waits for more
# to fill a batch of EMBED_BATCH_SIZE (search/index/outbox.py). 0: embed what is there at once.
EMBED_BATCH_WAIT_MS = env.int("EMBED_BATCH_WAIT_MS", default=250)
TEXT_MODEL = env.str("TEXT_MODEL", default="")  # empty: the bundled all-MiniLM-L6-v2
# Object detection for crops, taps and "shop the look" (search/encoding/detector.py): a
# closed-set detector (YOLOS, DETR) as trained, or an open-vocabulary one (OWLv2, Grounding
# DINO) prompted with DETECTOR_PROMPTS or the category names. Off: the storefront keeps the
# manual crop.
DETECTOR_ENABLED = env.bool("DETECTOR_ENABLED", default=True)
DETECTOR_MODEL = env.str("DETECTOR_MODEL", default="hustvl/yolos-tiny")
DETECTOR_MODEL_REVISION = env.str(
    "DETECTOR_MODEL_REVISION", default="1a00cc14a139ff40bac9aa00c745915cb7b5b751"
)
DETECTOR_DEVICE = env.str("DETECTOR_DEVICE", default="auto")  # "cpu", "cuda", "cuda:N", "auto"
DETECTOR_PROMPTS = env.str("DETECTOR_PROMPTS", default="")  # comma-separated, open-vocabulary
DETECT_MAX_BOXES = env.int("DETECT_MAX_BOXES", default=6)
DETECT_SCORE_THRESHOLD = env.float("DETECT_SCORE_THRESHOLD", default=0.5)
DETECT_NMS_IOU = env.float("DETECT_NMS_IOU", default=0.5)
# An open-vocabulary detector without DETECTOR_PROMPTS looks for the names of the shop's largest
# categories, at most this many (each is encoded by the detector's text tower on every photo).
DETECT_MAX_PROMPTS = env.int("DETECT_MAX_PROMPTS", default=24)

# --- Vector index.
VECTOR_BACKEND = env.str("VECTOR_BACKEND", default="embedded")  # "embedded" or "qdrant"
VECTOR_PATH = Path(env.str("VECTOR_PATH", default=str(VAR_DIR / "vectors")))
QDRANT_URL = env.str("QDRANT_URL", default="")
QDRANT_PATH = env.str("QDRANT_PATH", default="")  # qdrant-client local mode (tests)
QDRANT_API_KEY = env.str("QDRANT_API_KEY", default="") or None
QDRANT_SHARD_NUMBER = env.int("QDRANT_SHARD_NUMBER", default=1)
QDRANT_REPLICATION_FACTOR = env.int("QDRANT_REPLICATION_FACTOR", default=1)
QDRANT_WRITE_CONSISTENCY = env.str("QDRANT_WRITE_CONSISTENCY", default="majority")
QDRANT_TIMEOUT = env.int("QDRANT_TIMEOUT", default=10)
VECTOR_COLLECTION_PREFIX = env.str("VECTOR_COLLECTION_PREFIX", default="products")

# --- Search.
SHOP_NAME = env.str("SHOP_NAME", default="Visual Search Shop")
SEARCH_MAX_TEXT_LENGTH = 500
SEARCH_MAX_LIMIT = 100
SEARCH_NEGATIVE_WEIGHT = env.float("SEARCH_NEGATIVE_WEIGHT", default=0.5)
SEARCH_TEXT_CACHE_SIZE = env.int("SEARCH_TEXT_CACHE_SIZE", default=2048)
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"

# --- Re-ranking (off unless configured).
RERANK_ENABLED = env.bool("RERANK_ENABLED", default=False)
RERANK_API_BASE = env.str("RERANK_API_BASE", default="")
RERANK_MODEL = env.str("RERANK_MODEL", default="")
RERANK_API_KEY = env.str("RERANK_API_KEY", default="")
RERANK_LOCAL_MODEL = env.str("RERANK_LOCAL_MODEL", default="")
RERANK_LOCAL_MODEL_REVISION = env.str("RERANK_LOCAL_MODEL_REVISION", default="")
RERANK_CACHE_SECONDS = env.int("RERANK_CACHE_SECONDS", default=3600)
RERANK_TOP_N = env.int("RERANK_TOP_N", default=10)
RERANK_TIMEOUT_MS = env.int("RERANK_TIMEOUT_MS", default=3000)

# --- API.
# How many proxies in front of the web processes append to X-Forwarded-For (an ingress: 1).
# 0 takes the socket's address; a higher number than there are proxies lets any client choose
# its own address, and with it its own throttle bucket.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# API tokens expire this many seconds after they were issued (0: never); the token endpoint
# issues a new one for an expired token, or on request ("rotate": true).
API_TOKEN_TTL = env.int("API_TOKEN_TTL", default=30 * 24 * 3600)
# Password guessing (token endpoint and admin login): after this many failures for one
# username, or from one address, within LOGIN_LOCKOUT_SECONDS, logins answer 429 until the
# window has passed.
LOGIN_FAILURES_PER_USERNAME = env.int("LOGIN_FAILURES_PER_USERNAME", default=5)
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=20)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=900)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "catalog.auth.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Client identity for throttling: see TRUSTED_PROXY_COUNT above.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_THROTTLE_RATES": {
        "search_text_anon": env.str("THROTTLE_SEARCH_TEXT_ANON", default="120/min"),
        "search_text_user": env.str("THROTTLE_SEARCH_TEXT_USER", default="600/min"),
        "search_photo_anon": env.str("THROTTLE_SEARCH_PHOTO_ANON", default="20/min"),
        "search_photo_user": env.str("THROTTLE_SEARCH_PHOTO_USER", default="120/min"),
        "rerank": env.str("THROTTLE_RERANK", default="10/min"),
        # Batches of storefront events (POST /api/v1/events/), per client address.
        "analytics_events": env.str("THROTTLE_ANALYTICS_EVENTS", default="300/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Visual search API",
    "DESCRIPTION": "Text, photo and hybrid product search; merchant catalogue management.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # An object body is documented as JSON only. The views also take it as form fields
    # (`curl -d`, the browsable API), but one body under three media types makes generated
    # clients (openapi-python-client, clients/python) send it as multipart whatever it holds.
    # Bodies that really are files or lines (uploads, photo search, bulk) name their media
    # types in extend_schema, which this list does not filter.
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.schema.add_error_responses",
    ],
    # Several "status" fields with different choices: each enum gets its own name.
    "ENUM_NAME_OVERRIDES": {
        "ImageStatusEnum": "catalog.models.ProductImage.Status",
        "ImageFetchStatusEnum": "catalog.models.ProductImageFetch.Status",
        "BulkRowStatusEnum": "catalog.bulk.ROW_OUTCOMES",
        "WebhookEventEnum": "webhooks.models.Event",
        "WebhookDeliveryStatusEnum": "webhooks.models.WebhookDelivery.Status",
        "RuleKindEnum": "merchandising.models.Rule.Kind",
        "RuleMatchEnum": "merchandising.models.Rule.Match",
    },
}

# Throttle counters need a cache shared by all web processes in production.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if env.bool("CACHE_REDIS", default=PRODUCTION)
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Metrics.
METRICS_ENABLED = env.bool("METRICS_ENABLED", default=True)
# If set, /metrics needs "Bearer <token>"; production refuses to start without one (a system
# check) unless METRICS_ENABLED is false.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_WORKER_PORT = env.int("METRICS_WORKER_PORT", default=0)  # Celery workers' /metrics; 0: off

# Plain text, or one JSON object per line (LOG_FORMAT=json), each with the request id that
# caused it, in web and task logs alike (config/logs.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
LOGGING = logging_config(
    log_format=LOG_FORMAT,
    level=env.str("LOG_LEVEL", default="INFO"),
    quiet_task_trace=CELERY_TASK_ALWAYS_EAGER,
)

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    # Probes from the orchestrator come over plain HTTP inside the cluster.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy on every response (config/csp.py): scripts, styles and fonts from this
# origin only; images also from the S3 bucket or CDN the settings above name.
CSP_ENABLED = env.bool("CSP_ENABLED", default=True)
CSRF_FAILURE_VIEW = "config.api.csrf_failure"

# Fusion of the search legs (weighted reciprocal rank fusion; 0 switches a leg off).
SEARCH_WEIGHT_IMAGE = env.float("SEARCH_WEIGHT_IMAGE", default=1.0)
SEARCH_WEIGHT_TEXT = env.float("SEARCH_WEIGHT_TEXT", default=1.0)
SEARCH_WEIGHT_KEYWORDS = env.float("SEARCH_WEIGHT_KEYWORDS", default=1.0)
SEARCH_FUSION_DEPTH = env.int("SEARCH_FUSION_DEPTH", default=100)
# Exhaustive vector search instead of HNSW: exact but slow; for checks, not for shoppers.
SEARCH_EXACT = env.bool("SEARCH_EXACT", default=False)
# Reciprocal rank fusion constant: smaller lets each leg's first results count for more than
# products that several legs rank middling (docs/relevance.md: nDCG@10 0.817 at 60, 0.831 at 10).
SEARCH_RRF_K = env.int("SEARCH_RRF_K", default=10)

# Query understanding before the legs (search/query/understanding.py, docs/relevance.md):
# exact identifiers first, typo correction against the catalogue's words, and colour, category
# and brand words as soft boosts. Off: the words go to the legs as typed (bench/search.py).
SEARCH_QUERY_UNDERSTANDING = env.bool("SEARCH_QUERY_UNDERSTANDING", default=True)
# A corrected word's weight in the keyword leg (a typed word weighs 1), and a colour named by
# a shade ("mustard") adds its catalogue colour ("yellow") at this weight.
SEARCH_CORRECTED_WEIGHT = 0.8
# Added to a fused score when the product is in a category (or of a brand) the words name, in
# units of a first rank in one leg (1 / (SEARCH_RRF_K + 1)). The brand's is the smaller, so
# that "Velo sneakers" shows other sneakers before Velo's boots (docs/relevance.md).
SEARCH_BOOST_CATEGORY = 1.0
SEARCH_BOOST_BRAND = 0.5
# Identifiers that start with the query (at least this many characters) rank as a leg.
SEARCH_IDENTIFIER_PREFIX_MIN = 4
SEARCH_WEIGHT_IDENTIFIER_PREFIX = 1.0
# How long the catalogue vocabulary is trusted before its version is checked again (seconds).
SEARCH_VOCABULARY_TTL = 30.0
# Rebuild a changed vocabulary in a background thread, serving the previous one meanwhile;
# off, the search that notices the change waits for it.
SEARCH_VOCABULARY_BACKGROUND = True

# The gate on `reindex --model` (search/relevance/gate.py): the candidate may be worse than the
# live model on the catalogue's held-out splits by at most this much (absolute recall@10 and
# nDCG@10) before the switch is refused; `--force` switches anyway.
REINDEX_GATE_MARGIN = env.float("REINDEX_GATE_MARGIN", default=0.02)
# `finetune_clip` (search/relevance/runs.py): on a CUDA device (FINETUNE_DEVICE, default
# CLIP_DEVICE) the run goes to a Celery worker on FINETUNE_QUEUE (`entrypoint.sh worker-training`
# on the GPU host); on a CPU it runs in the command's own process. The output and pairs paths
# are the worker's: shared storage, or the GPU host's disk that `reindex --model` then reads.
FINETUNE_DEVICE = env.str("FINETUNE_DEVICE", default="")  # empty: CLIP_DEVICE
FINETUNE_QUEUE = env.str("FINETUNE_QUEUE", default="training")
# A run resumes from its last finished epoch: the limit ends a stuck run, not a long one.
FINETUNE_TIME_LIMIT = env.int("FINETUNE_TIME_LIMIT", default=24 * 3600)
# How often a run writes its step progress to its row (seconds); epochs are always written.
FINETUNE_PROGRESS_SECONDS = env.float("FINETUNE_PROGRESS_SECONDS", default=5.0)
# --- Merchant catalogue feeds (issue 19): bulk upsert, images by URL, webhooks.
# Rows in one bulk upsert call (JSON lines or CSV); a bigger file is refused whole (split it).
BULK_UPSERT_MAX_ROWS = env.int("BULK_UPSERT_MAX_ROWS", default=1000)
BULK_UPSERT_MAX_BYTES = env.int("BULK_UPSERT_MAX_BYTES", default=5 * 1024 * 1024)
# Images fetched from a merchant's URL by a worker: bytes, whole download time, redirects, and
# networks exempt from the public-address-only rule (CIDRs, comma-separated; empty: none).
IMAGE_FETCH_MAX_BYTES = env.int("IMAGE_FETCH_MAX_BYTES", default=MAX_UPLOAD_BYTES)
IMAGE_FETCH_TIMEOUT_SECONDS = env.float("IMAGE_FETCH_TIMEOUT_SECONDS", default=20.0)
IMAGE_FETCH_MAX_REDIRECTS = env.int("IMAGE_FETCH_MAX_REDIRECTS", default=3)
# Tries after the first when the image server is down or answers 5xx/429 (back-off 30 s, 60 s...).
IMAGE_FETCH_MAX_RETRIES = env.int("IMAGE_FETCH_MAX_RETRIES", default=3)
IMAGE_FETCH_ALLOWED_NETWORKS = env.list("IMAGE_FETCH_ALLOWED_NETWORKS", default=[])
# Webhooks to merchants' endpoints (webhooks/, docs/webhooks.md): answer time per attempt,
# retries after the first (back-off WEBHOOK_RETRY_BASE_SECONDS x 2^n, at most an hour apart),
# and networks exempt from the public-address-only rule (CIDRs; empty: none).
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_MAX_RETRIES = env.int("WEBHOOK_MAX_RETRIES", default=8)
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=30.0)
WEBHOOK_ALLOWED_NETWORKS = env.list("WEBHOOK_ALLOWED_NETWORKS", default=[])

# --- Error tracking (opt-in): Sentry for web requests and Celery tasks, scrubbed of request
# bodies (shopper photos), credentials and frame variables before sending (config/sentry.py).
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str(
    "SENTRY_ENVIRONMENT", default="production" if PRODUCTION else "development"
)
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
init_sentry(
    dsn=SENTRY_DSN,
    environment=SENTRY_ENVIRONMENT,
    release=env.str("SENTRY_RELEASE", default=""),
    traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
)
# --- Search analytics (analytics/, README "Search analytics"). Recording needs PostgreSQL (daily
# partitions, SQL rollups); on SQLite it is off and the dashboard says so.
ANALYTICS_ENABLED = env.bool(
    "ANALYTICS_ENABLED", default=DATABASES["default"]["ENGINE"].endswith("postgresql")
)
# Raw search and interaction events (and photo searches' CLIP vectors and perceptual hashes)
# are deleted after this many days; the daily rollup keeps counts only.
ANALYTICS_RETENTION_DAYS = env.int("ANALYTICS_RETENTION_DAYS", default=30)
# Searches wait in an in-process queue of this size and a background thread writes them in
# bulk at least this often; a full queue drops (and counts) a search rather than slow it.
ANALYTICS_QUEUE_SIZE = env.int("ANALYTICS_QUEUE_SIZE", default=10000)
ANALYTICS_FLUSH_SECONDS = env.float("ANALYTICS_FLUSH_SECONDS", default=1.0)
# A best similarity below these marks a "low score" search (photo: CLIP image-image cosine of
# the image leg; text: MiniLM cosine of the text leg); photo ones feed the demand gaps.
ANALYTICS_LOW_SCORE_PHOTO = env.float("ANALYTICS_LOW_SCORE_PHOTO", default=0.6)
ANALYTICS_LOW_SCORE_TEXT = env.float("ANALYTICS_LOW_SCORE_TEXT", default=0.3)
# How often beat recounts today's (and yesterday's) figures for the dashboard.
ANALYTICS_ROLLUP_INTERVAL_SECONDS = env.int("ANALYTICS_ROLLUP_INTERVAL_SECONDS", default=600)
# PostgreSQL work_mem for the rollup's transaction (its hash tables stay in memory).
ANALYTICS_ROLLUP_WORK_MEM = env.str("ANALYTICS_ROLLUP_WORK_MEM", default="256MB")
# --- Catalogue enrichment from images (search/enrichment/, issue 22) ---
# Colours, perceptual hashes and near-duplicate flags are derived after an image is indexed.
ENRICHMENT_ENABLED = env.bool("ENRICHMENT_ENABLED", default=True)
# A JSON palette ({"colors": {name: ["#rrggbb", ...]}}); empty: the bundled dozen names.
ENRICHMENT_COLOR_PALETTE = env.str("ENRICHMENT_COLOR_PALETTE", default="")
# A colour counts for a product (filter, facet) when it covers this share of its pixels.
ENRICHMENT_COLOR_MIN_SHARE = env.float("ENRICHMENT_COLOR_MIN_SHARE", default=0.15)
# Near-duplicates: image vectors at least this cosine apart, and perceptual hashes (pHash and
# dHash) at most this many bits apart of 128; bench/enrichment.py measures precision, recall.
ENRICHMENT_DUPLICATE_MIN_SIMILARITY = env.float("ENRICHMENT_DUPLICATE_MIN_SIMILARITY", default=0.85)
ENRICHMENT_DUPLICATE_MAX_HASH_BITS = env.int("ENRICHMENT_DUPLICATE_MAX_HASH_BITS", default=28)
# Also look for the same photo in other merchants' catalogues (shown to shop staff only).
ENRICHMENT_DUPLICATES_ACROSS_MERCHANTS = env.bool(
    "ENRICHMENT_DUPLICATES_ACROSS_MERCHANTS", default=True
)
# Zero-shot attributes (pattern, material, style...) scored with CLIP prompts against the stored
# image vectors; vocabularies and thresholds per category in a JSON file (empty: bundled).
ENRICHMENT_ATTRIBUTES_ENABLED = env.bool("ENRICHMENT_ATTRIBUTES_ENABLED", default=True)
ENRICHMENT_ATTRIBUTES_FILE = env.str("ENRICHMENT_ATTRIBUTES_FILE", default="")
# AI-written drafts of title, description and attributes (the re-ranking endpoint's model):
# how long a draft may take.
ENRICHMENT_DRAFT_TIMEOUT_MS = env.int("ENRICHMENT_DRAFT_TIMEOUT_MS", default=20000)
# Beat: indexed images not enriched yet (a lost task, a restart) are picked up this often.
ENRICHMENT_SWEEP_INTERVAL_SECONDS = env.int("ENRICHMENT_SWEEP_INTERVAL_SECONDS", default=300)
# Diversity (`diversity` in a search): how many top results MMR re-orders at least.
SEARCH_DIVERSITY_DEPTH = env.int("SEARCH_DIVERSITY_DEPTH", default=40)
# --- Merchandising rules (merchandising/cache.py): how often a process asks whether any rule
# changed (one indexed aggregate), so a save applies in every process within this many ms.
MERCHANDISING_RULES_REFRESH_MS = env.int("MERCHANDISING_RULES_REFRESH_MS", default=1000)
# The click model (merchandising/clickmodel.py): off by default. On, beat fits it every
# MERCHANDISING_CLICK_MODEL_INTERVAL_SECONDS from the last _DAYS of text searches and clicks,
# and click-model rules apply what it learned; a pair seen fewer than _MIN_IMPRESSIONS times
# (in the first _POSITIONS places) earns no boost.
MERCHANDISING_CLICK_MODEL = env.bool("MERCHANDISING_CLICK_MODEL", default=False)
MERCHANDISING_CLICK_MODEL_DAYS = env.int("MERCHANDISING_CLICK_MODEL_DAYS", default=30)
MERCHANDISING_CLICK_MODEL_MIN_IMPRESSIONS = env.int(
    "MERCHANDISING_CLICK_MODEL_MIN_IMPRESSIONS", default=20
)
MERCHANDISING_CLICK_MODEL_POSITIONS = env.int("MERCHANDISING_CLICK_MODEL_POSITIONS", default=20)
MERCHANDISING_CLICK_MODEL_INTERVAL_SECONDS = env.int(
    "MERCHANDISING_CLICK_MODEL_INTERVAL_SECONDS", default=86_400
)
