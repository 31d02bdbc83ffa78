"""What a provider handler receives and returns."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from . import body_types
from .errors import ArmError


@dataclass
class Reply:
    status: int = 200
    body: object = None  # dict/list -> JSON; None -> empty body
    headers: dict = field(default_factory=dict)


class SimRequest:
    def __init__(self, sim, method, path, query, headers, raw_body, params, base_url):
        self.sim = sim
        self.method = method
        self.path = path
        self.query = query  # dict with lower-cased keys
        self.headers = headers
        self.raw_body = raw_body
        self.params = params
        self.base_url = base_url

    @property
    def api_version(self):
        return self.query.get("api-version")

    @property
    def subscription(self):
        return self.params.get("subscriptionId")

    def json(self, required=True):
        """The request body as a dict; ARM's error codes for an empty, malformed or mistyped body.

        ARM bodies come back type-checked and converted (``body_types``): providers see only the JSON
        types they expect, and ``null`` values are left out."""
        if not self.raw_body or not self.raw_body.strip():
            if required:
                raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: "
                               "'The request body is empty.'")
            return {}
        try:
            body = json.loads(self.raw_body)
        except (ValueError, UnicodeDecodeError) as err:
            raise ArmError(400, "InvalidRequestContent",
                           f"The request content was invalid and could not be deserialized: '{err}'.") from None
        if not isinstance(body, dict):
            raise ArmError(400, "InvalidRequestContent",
                           "The request content was invalid and could not be deserialized: 'expected a JSON object'.")
        if self.path.lower().startswith("/subscriptions/"):  # ARM bodies; admin bodies are the simulator's own
            body = body_types.normalize(body)
        return body

    def form(self):
        from urllib.parse import parse_qs

        parsed = parse_qs(self.raw_body.decode("utf-8", "replace"), keep_blank_values=True)
        return {key: values[-1] for key, values in parsed.items()}
