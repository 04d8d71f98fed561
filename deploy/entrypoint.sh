#!/usr/bin/env bash
# The image's entry point: one image, one role per container.
#
#   entrypoint.sh web                  gunicorn (MIGRATE_ON_START=true runs migrations first)
#   entrypoint.sh worker-embeddings    Celery worker on EMBEDDING_QUEUE only (CLIP; GPU hosts)
#   entrypoint.sh worker               Celery worker on the default queue
#   entrypoint.sh worker-training      Celery worker on FINETUNE_QUEUE, one run at a time (GPU)
#   entrypoint.sh beat                 Celery beat (exactly one per deployment)
#   entrypoint.sh flower               Flower, Celery's monitoring UI
#   entrypoint.sh migrate              apply database migrations, then exit
#   entrypoint.sh download-models      fetch the pinned models into HF_HOME, then exit
#   entrypoint.sh manage ARGS...       any manage.py command (reindex, createsuperuser, ...)
#   entrypoint.sh COMMAND ARGS...      anything else runs as is (bash, python, ...)
#
# Extra arguments after a role go to the program, e.g. `worker --concurrency 8`.
set -euo pipefail

APP_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$APP_DIR"

usage() {
  sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
}

truthy() {
  case "${1,,}" in
    1 | true | yes | on) return 0 ;;
    *) return 1 ;;
  esac
}

metrics_dir() {
  # Every process of this role (gunicorn workers, Celery pool children) writes its samples
  # here and a scrape adds them up; a previous run's files would be counted twice.
  export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-/tmp/prometheus-metrics}"
  mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
  rm -f "$PROMETHEUS_MULTIPROC_DIR"/*.db
}

role="${1:-}"
if [[ $# -gt 0 ]]; then shift; fi
log_level="${LOG_LEVEL:-INFO}"

case "$role" in
  web)
    if truthy "${MIGRATE_ON_START:-false}"; then
      python manage.py migrate --noinput
    fi
    metrics_dir
    exec gunicorn -c deploy/gunicorn.conf.py config.wsgi "$@"
    ;;
  worker-embeddings)
    metrics_dir
    exec celery -A config worker -Q "${EMBEDDING_QUEUE:-embeddings}" --prefetch-multiplier 1 \
      --loglevel "$log_level" "$@"
    ;;
  worker)
    metrics_dir
    exec celery -A config worker -Q default --loglevel "$log_level" "$@"
    ;;
  worker-training)
    # One fine-tuning run at a time: a run takes the whole GPU.
    metrics_dir
    exec celery -A config worker -Q "${FINETUNE_QUEUE:-training}" --concurrency 1 \
      --prefetch-multiplier 1 --loglevel "$log_level" "$@"
    ;;
  beat)
    # --enable-remote-control: beat answers `celery inspect ping -d celerybeat@$HOSTNAME`
    # while its scheduler ticks, which is what the health checks ask.
    exec celery -A config beat --enable-remote-control \
      --schedule "${CELERY_BEAT_SCHEDULE_FILE:-/tmp/celerybeat-schedule}" \
      --loglevel "$log_level" "$@"
    ;;
  flower)
    exec celery -A config flower "$@"
    ;;
  migrate)
    exec python manage.py migrate --noinput "$@"
    ;;
  download-models)
    exec python deploy/download_models.py "$@"
    ;;
  manage)
    exec python manage.py "$@"
    ;;
  "" | help | -h | --help)
    usage
    exit 64
    ;;
  *)
    exec "$role" "$@"
    ;;
esac
