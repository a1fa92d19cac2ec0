"""WSGI entry point for gunicorn: `gunicorn -c gunicorn.conf.py` (see gunicorn.conf.py)."""

import gc

from service import create_app
from service.guides.app import get_guides
from service.scoring import get_risk_engine

app = create_app()
# gunicorn preloads this module in its master (preload_app): whatever is loaded here is
# shared by every web worker, whatever is left to load lazily is loaded again by each. Only
# files are read here: a database connection opened in the master would be shared by forks.
with app.app_context():
    get_risk_engine()  # rule packs and the classifier
    get_guides()
# These objects live as long as the process: out of the collector's reach, collections stay
# short and their pages are not dirtied in the workers.
gc.freeze()
