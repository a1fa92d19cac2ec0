#!/bin/sh
# The container's role is its first argument: web (default) or worker; anything else runs as is.
set -e
case "${1:-web}" in
  web)
    defuse db upgrade
    exec gunicorn -c /app/gunicorn.conf.py
    ;;
  worker)
    exec defuse worker
    ;;
  *)
    exec "$@"
    ;;
esac
