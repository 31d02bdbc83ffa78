"""What the admin API applies to what it returns: secrets never leave through ``/_azsim/settings``."""

from __future__ import annotations

import copy
import re

REDACTED = "**redacted**"
_SECRET_KEY = re.compile(r"secret|password|passwd|private_key|signature|(^|_)sas($|_)|(^|_)token$|^token_key$", re.I)


def redact(value):
    """A copy of ``value`` with every secret-looking key's value (``client_secret``, ``*_token``...) replaced."""
    if isinstance(value, dict):
        return {key: (REDACTED if isinstance(key, str) and _SECRET_KEY.search(key) and item not in (None, "")
                      else redact(item)) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    return copy.deepcopy(value)


def drop_redacted(update):
    """Posting back what GET returned must not set a secret to the redaction marker."""
    if isinstance(update, dict):
        return {key: drop_redacted(item) for key, item in update.items() if item != REDACTED}
    return update
