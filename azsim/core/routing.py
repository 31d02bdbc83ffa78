"""Case-insensitive ARM path templates.

ARM matches paths case-insensitively (`resourceGroups` == `resourcegroups`), aiohttp's router does not,
so the simulator keeps its own small table and hands aiohttp a single catch-all handler.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass
class Route:
    method: str
    template: str
    pattern: re.Pattern
    handler: Callable
    kind: str  # "arm" (api-version, auth, throttling), "entra", "admin", "public"


class Router:
    def __init__(self):
        self._routes: list[Route] = []

    def add(self, method, template, handler, kind="arm"):
        regex = ""
        pos = 0
        for match in _PARAM.finditer(template):
            regex += re.escape(template[pos:match.start()])
            regex += f"(?P<{match.group(1)}>[^/]+)"
            pos = match.end()
        regex += re.escape(template[pos:])
        pattern = re.compile("^" + regex + "/?$", re.IGNORECASE)
        self._routes.append(Route(method.upper(), template, pattern, handler, kind))

    def match(self, method, path):
        """Return (route, params) or (None, allowed_methods)."""
        allowed = set()
        for route in self._routes:
            found = route.pattern.match(path)
            if not found:
                continue
            if route.method == method:
                return route, found.groupdict()
            allowed.add(route.method)
        return None, allowed
