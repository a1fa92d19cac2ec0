"""gunicorn settings for the web role.

The access log format leaves out the client address (%(h)s), the user agent (%(a)s), the
referrer and the query string: for intake routes none of them may ever be written down. Our
logger class enforces that whatever the format says, writes the route pattern (never the raw
path with its case ids) as %(U)s, and keeps client addresses out of the error log.
"""

import os

bind = os.environ.get("DEFUSE_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("DEFUSE_WEB_WORKERS", "2"))
threads = int(os.environ.get("DEFUSE_WEB_THREADS", "4"))
worker_class = "gthread"
timeout = 30
graceful_timeout = 20
# Load the app (rules, classifier) once in the master; workers share the memory.
preload_app = True
accesslog = "-"
access_log_format = "%(m)s %(U)s %(s)s %(B)s %(M)sms"
errorlog = "-"
logger_class = "service.logs.AnonymousGunicornLogger"
# gunicorn itself believes no forwarding header from anyone: the app decides, by
# DEFUSE_TRUSTED_PROXIES (Werkzeug's ProxyFix), in one place for scheme, host and address.
forwarded_allow_ips = ""
wsgi_app = "service.wsgi:app"
