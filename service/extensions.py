"""Extensions, created unbound here and bound to an app in create_app (no import-time state)."""

from __future__ import annotations

from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_session import Session
from flask_sqlalchemy import SQLAlchemy
from flask_talisman import Talisman
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from service.csrf import CSRFProtectWithOrigin
from service.privacy.ratelimit import anonymous_client_key

# Stable constraint names, so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtectWithOrigin()
limiter = Limiter(key_func=anonymous_client_key, default_limits=[])
talisman = Talisman()
# Sessions live on the server (Redis, or files in the instance folder without it), so that
# signing out deletes them: a copied cookie opens nothing afterwards.
server_sessions = Session()

# No inline scripts or styles anywhere: pages work without JavaScript, charts are SVG.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "img-src": "'self' data:",
    "style-src": "'self'",
    "script-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}
