"""Reading guide YAML safely, and turning marshmallow errors into one line per field."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys, which plain YAML silently overwrites."""


def _construct_unique_mapping(loader: yaml.SafeLoader, node: yaml.Node) -> dict[Any, Any]:
    assert isinstance(node, yaml.MappingNode)  # registered for the mapping tag only
    seen: set[Any] = set()
    for key_node, _value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
        except TypeError:  # an unhashable key; SafeLoader reports it below
            continue
        if duplicate:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate mapping key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping
)


def read_yaml(path: Path, shown_as: str) -> tuple[Any, list[str]]:
    """Parse one file; returns (data, problems). Problems are prefixed with `shown_as`."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"{shown_as}: cannot be read ({exc.__class__.__name__})"]
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader), []  # noqa: S506 (a SafeLoader subclass)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        return None, [f"{shown_as}: not valid YAML{where}: {exc.problem or exc.context}"]
    except yaml.YAMLError as exc:
        return None, [f"{shown_as}: not valid YAML: {exc}"]


# marshmallow's wording -> the short wording used in guide errors
_PLAIN_MESSAGES = {
    "Missing data for required field.": "missing",
    "Unknown field.": "unknown field",
    "Not a valid string.": "must be text",
    "Not a valid list.": "must be a list",
    "Invalid input type.": "must be a mapping",
    "Invalid type.": "must be a mapping",
    "Field may not be null.": "must not be empty",
}


def plain_message(message: str) -> str:
    if message in _PLAIN_MESSAGES:
        return _PLAIN_MESSAGES[message]
    message = message.rstrip(".")
    return message[:1].lower() + message[1:]


def field_errors(messages: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Flatten marshmallow's nested error dict into (dotted path, message) pairs.

    {"behaviours": {"attending": {2: {"key": [...]}}}} -> ("behaviours.attending[2].key", ...)
    """
    if isinstance(messages, dict):
        for name, inner in messages.items():
            if name == "_schema":
                inner_path = path
            elif isinstance(name, int):
                inner_path = f"{path}[{name}]"
            else:
                inner_path = f"{path}.{name}" if path else str(name)
            yield from field_errors(inner, inner_path)
    elif isinstance(messages, list):
        for message in messages:
            yield from field_errors(message, path)
    else:
        yield path, plain_message(str(messages))


def describe(shown_as: str, path: str, message: str) -> str:
    """The one-line form of a problem: `guides/x.yaml: field 'a.b[2].key': missing`."""
    if path:
        return f"{shown_as}: field '{path}': {message}"
    return f"{shown_as}: {message}"
