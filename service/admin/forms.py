"""The admin forms (accounts, org units), read from HTML form fields into the arguments of
service.people and service.org. Messages are lazy: translated when the page shows them."""

from __future__ import annotations

from typing import Any

from flask_babel import format_decimal, lazy_gettext
from flask_babel.speaklater import LazyString
from marshmallow import Schema, ValidationError, fields, pre_load, validate
from werkzeug.datastructures import MultiDict

from service.db.org import NAME_MAX
from service.db.people import ROLES
from service.org.csvfile import HEADCOUNT_MAX
from service.schemas.fields import Id, Text
from service.vocab import CATEGORIES, LANGUAGES

CAPACITY_MAX = 100


def _one_of(choices: tuple[str, ...]) -> validate.OneOf:
    return validate.OneOf(choices, error=lazy_gettext("Must be one of: {choices}."))


class ProfileFormSchema(Schema):
    name = Text(load_default="", validate=validate.Length(max=200))
    role = fields.String(required=True, validate=_one_of(ROLES))
    org_unit_id = Id(
        load_default=None, allow_none=True, error=lazy_gettext("Choose an org unit from the list.")
    )
    languages = fields.List(
        fields.String(validate=_one_of(LANGUAGES)),
        load_default=list,
        validate=validate.Length(min=1, error=lazy_gettext("Choose at least one language.")),
    )
    categories = fields.List(fields.String(validate=_one_of(CATEGORIES)), load_default=list)
    capacity = fields.Integer(
        load_default=8,
        validate=validate.Range(
            min=0, max=CAPACITY_MAX, error=lazy_gettext("Must be 0 to %(max)s.", max=CAPACITY_MAX)
        ),
    )
    on_call = fields.Boolean(load_default=False)

    @pre_load
    def _from_form(self, data: Any, **_: Any) -> Any:
        if not isinstance(data, MultiDict):
            return data
        form: dict[str, Any] = {
            "name": (data.get("name") or "").strip(),
            "role": data.get("role") or "",
            "org_unit_id": data.get("org_unit_id") or None,
            "languages": data.getlist("languages"),
            "categories": data.getlist("categories"),
            "capacity": data.get("capacity") or "8",
            "on_call": bool(data.get("on_call")),
        }
        for name in self.extra_form_fields():
            form[name] = self.read_extra(data, name)
        return form

    def extra_form_fields(self) -> tuple[str, ...]:
        return ()

    def read_extra(self, data: MultiDict[str, str], name: str) -> Any:
        return data.get(name)


class EditFormSchema(ProfileFormSchema):
    away_until = fields.Date(load_default=None, allow_none=True)
    active = fields.Boolean(load_default=False)

    def extra_form_fields(self) -> tuple[str, ...]:
        return ("away_until", "active")

    def read_extra(self, data: MultiDict[str, str], name: str) -> Any:
        if name == "active":
            return bool(data.get("active"))
        return data.get(name) or None


class CreateFormSchema(ProfileFormSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    # Blank (None) only makes sense with single sign-on; the view decides.
    # Its strength is checked where every new password is (service.people), with the email.
    password = fields.String(load_default=None, allow_none=True)

    def extra_form_fields(self) -> tuple[str, ...]:
        return ("email", "password")

    def read_extra(self, data: MultiDict[str, str], name: str) -> Any:
        value = data.get(name) or ""
        if name == "password":
            return value or None
        return value.strip().lower() if name == "email" else value


class TokenFormSchema(Schema):
    label = Text(
        load_default="",
        validate=validate.Length(
            max=100, error=lazy_gettext("At most %(max)s characters.", max=100)
        ),
    )

    @pre_load
    def _from_form(self, data: Any, **_: Any) -> Any:
        if isinstance(data, MultiDict):
            return {"label": (data.get("label") or "").strip()}
        return data


class UnitFormSchema(Schema):
    """An org unit as an admin edits it (the fields an import sets, and the HR flag)."""

    name = Text(
        required=True,
        validate=validate.Length(
            min=1, max=NAME_MAX, error=lazy_gettext("Enter 1 to %(max)s characters.", max=NAME_MAX)
        ),
    )
    parent_id = Id(
        load_default=None, allow_none=True, error=lazy_gettext("Choose a unit from the list.")
    )
    headcount = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(
            min=0,
            max=HEADCOUNT_MAX,
            error=lazy_gettext(
                "Must be a whole number, 0 to %(max)s.",
                # The limit with the page's digit grouping, formatted when the message is shown.
                max=LazyString(format_decimal, HEADCOUNT_MAX),
            ),
        ),
        error_messages={"invalid": lazy_gettext("Must be a whole number, 0 or more.")},
    )
    retired = fields.Boolean(load_default=False)
    is_hr = fields.Boolean(load_default=False)

    @pre_load
    def _from_form(self, data: Any, **_: Any) -> Any:
        if not isinstance(data, MultiDict):
            return data
        return {
            "name": " ".join((data.get("name") or "").split()),
            "parent_id": data.get("parent_id") or None,
            "headcount": (data.get("headcount") or "").strip() or None,
            "retired": bool(data.get("retired")),
            "is_hr": bool(data.get("is_hr")),
        }


def field_messages(error: ValidationError) -> dict[str, list[str]]:
    """Field -> messages, with list-item errors folded onto their field."""
    messages = error.messages if isinstance(error.messages, dict) else {"_form": error.messages}
    flat: dict[str, list[str]] = {}
    for name, value in messages.items():
        if isinstance(value, dict):
            value = [
                m for item in value.values() for m in (item if isinstance(item, list) else [item])
            ]
        flat[str(name)] = [str(m) for m in (value if isinstance(value, list) else [value])]
    return flat
