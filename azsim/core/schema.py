"""The JSON Schemas of the files users seed the simulator with (azsim/schemas/), and their checks.

    check("catalog", data, source="catalog.json")   # raises SchemaError:
    # catalog.json: publishers.Contoso.offers.linux.skus.base.versions["1.0.0"].properties.hyperVGeneration:
    #   expected one of "V1", "V2", got "V3"

The message names the source, the path of the bad field (``.name`` for object keys, ``["1.0.0"]`` for keys
that are not plain names, ``[2]`` for list items) and what was expected.
"""

from __future__ import annotations

import functools
import json
import os
import re

SCHEMA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "schemas")
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class SchemaError(ValueError):
    """A document does not match its schema; ``path`` is the bad field's path, ``str()`` the full message."""

    def __init__(self, message, path=""):
        super().__init__(message)
        self.path = path


def schema_path(name):
    return os.path.join(SCHEMA_DIR, f"{name}.schema.json")


@functools.lru_cache(maxsize=None)
def load_schema(name):
    with open(schema_path(name), encoding="utf-8") as handle:
        return json.load(handle)


@functools.lru_cache(maxsize=None)
def _validator(name):
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema(name))


def format_path(parts):
    """``["publishers", "Canonical", "offers", 0]`` -> ``publishers.Canonical.offers[0]``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN.match(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out


def _describe(error):
    """(path parts, message) of one jsonschema error, in words a user acts on."""
    path = list(error.absolute_path)
    kind, value, wanted = error.validator, error.instance, error.validator_value
    shown = json.dumps(value)[:80]
    if kind == "type":
        wanted_text = " or ".join(wanted) if isinstance(wanted, list) else wanted
        return path, f"expected {wanted_text}, got {shown}"
    if kind == "enum":
        return path, f"expected one of {', '.join(json.dumps(item) for item in wanted)}, got {shown}"
    if kind == "const":
        return path, f"expected {json.dumps(wanted)}, got {shown}"
    if kind == "required":
        missing = [name for name in wanted if isinstance(value, dict) and name not in value]
        return [*path, missing[0]] if missing else path, "required, missing"
    if kind == "additionalProperties" and isinstance(value, dict):
        allowed = sorted((error.schema.get("properties") or {}).keys())
        extra = sorted(key for key in value if key not in allowed)
        return [*path, extra[0]] if extra else path, f"unknown key (allowed: {', '.join(allowed)})"
    if kind in ("minimum", "exclusiveMinimum"):
        return path, f"expected a number >= {wanted}, got {shown}"
    if kind == "minLength":
        return path, "expected a non-empty string"
    if kind == "minItems":
        return path, f"expected at least {wanted} item(s)"
    if kind == "pattern":
        return path, f"expected a string matching {wanted}, got {shown}"
    return path, error.message


def errors(name, data):
    """Every problem as ``(path, message)``, in document order as far as the schema allows."""
    found = []
    for error in _validator(name).iter_errors(data):
        if "propertyNames" in error.absolute_schema_path:
            # the error's instance is the bad key itself; report it at the object that holds it
            found.append((list(error.absolute_path), f"bad name {json.dumps(error.instance)}: {_describe(error)[1]}"))
            continue
        found.append(_describe(error))
    return found


def check(name, data, source=None):
    """Raise SchemaError naming ``source`` (a file name, or the document's name) and the first bad field."""
    problems = errors(name, data)
    if not problems:
        return
    # the outermost problem explains the rest; at one depth an unknown key first (a typo explains a missing key)
    path, message = min(problems, key=lambda item: (len(item[0]), not item[1].startswith("unknown key")))
    where = format_path(path) or "(top level)"
    others = {format_path(item[0]) for item in problems} - {format_path(path)}
    more = f" (and {len(others)} more field(s): {', '.join(sorted(others)[:3])})" if others else ""
    raise SchemaError(f"{source or name}: {where}: {message}{more}; schema: {os.path.basename(schema_path(name))}",
                      format_path(path))
