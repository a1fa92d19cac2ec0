"""WSGI entry point for gunicorn: `gunicorn -c gunicorn.conf.py` (see gunicorn.conf.py)."""

import gc

from service import create_app

app = create_app()
# Everything loaded so far (rule packs, the classifier, templates) lives as long as the worker:
# moving it out of the collector's reach keeps collections short and the pages shared after fork.
gc.freeze()
