# Copyright: (c) 2026, goldenimage.azure contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Version ordering and selection for Marketplace image versions and gallery image versions.

ARM sorts version names as strings (``$orderby=name desc`` puts ``8.9.2024022012`` above
``8.10.2024070513``). Everything here orders versions numerically, component by component:

* A version is split on ``.``. Components made only of ASCII digits compare as integers, so
  ``8.10 > 8.9`` and ``1.0.10 > 1.0.9``.
* A component that is not purely numeric (``0-preview``, ``beta2``) sorts *below* every numeric
  component at the same position, and such components compare among themselves in natural order
  (digit runs as integers, the rest case-insensitively). So ``1.0.0-rc1 < 1.0.0``.
* A version that is a prefix of another sorts first (``1.0 < 1.0.0 < 1.0.1``), like integer tuples.
* Ties (``1.01`` vs ``1.1``) are broken by the raw string, so the order is total and deterministic.

Version specifications (what a user writes):

* ``latest`` (any case) or empty: the highest version.
* A prefix ending in ``.*`` (``22.04.*``, ``8.*``): the highest version whose leading components
  equal the given ones (numerically for numeric components: ``8.*`` matches ``8.10.1``, not ``80.1``).
* Any other value containing ``*``, ``?`` or ``[``: a shell-style glob on the whole version name.
* Anything else: that exact version (case-insensitive).
"""

from __future__ import annotations

import fnmatch
import re

LATEST = "latest"
_TOKEN = re.compile(r"(\d+)|(\D+)")


def _component_key(component):
    if component.isdigit() and component.isascii():
        return (1, int(component), ())
    tokens = []
    for digits, text in _TOKEN.findall(component):
        if digits:
            tokens.append((1, int(digits), ""))
        else:
            tokens.append((0, 0, text.lower()))
    return (0, 0, tuple(tokens))


def version_key(version):
    """Sort key: numeric per component, total and deterministic (see module docs)."""
    text = str(version)
    return (tuple(_component_key(part) for part in text.split(".")), text)


def sort_versions(versions, reverse=False):
    """The versions ordered by :func:`version_key` (ascending unless ``reverse``)."""
    return sorted(versions, key=version_key, reverse=reverse)


def compare(left, right):
    """-1, 0 or 1 as ``left`` sorts before, equal to or after ``right``."""
    a, b = version_key(left), version_key(right)
    return (a > b) - (a < b)


def newest(versions):
    """The highest version, or None when there is none."""
    versions = list(versions)
    return max(versions, key=version_key) if versions else None


class VersionSpec:
    """A parsed version specification: ``kind`` is ``latest``, ``prefix``, ``glob`` or ``exact``."""

    __slots__ = ("text", "kind", "_parts")

    def __init__(self, text=None):
        raw = "" if text is None else str(text).strip()
        self.text = raw or LATEST
        self._parts = None
        if raw.lower() in ("", LATEST):
            self.kind = LATEST
        elif raw == "*":
            self.kind = LATEST
        elif raw.endswith(".*") and not any(ch in raw[:-2] for ch in "*?["):
            self.kind = "prefix"
            self._parts = [_component_key(part) for part in raw[:-2].split(".")]
        elif any(ch in raw for ch in "*?["):
            self.kind = "glob"
        else:
            self.kind = "exact"

    @property
    def is_exact(self):
        return self.kind == "exact"

    def matches(self, version):
        text = str(version)
        if self.kind == LATEST:
            return True
        if self.kind == "exact":
            return text.lower() == self.text.lower()
        if self.kind == "glob":
            return fnmatch.fnmatchcase(text.lower(), self.text.lower())
        parts = text.split(".")
        if len(parts) <= len(self._parts):
            return False
        return all(_component_key(part) == want for part, want in zip(parts, self._parts))

    def __repr__(self):
        return f"VersionSpec({self.text!r}, kind={self.kind!r})"


def matching(versions, spec):
    """The versions that match ``spec`` (a string or :class:`VersionSpec`), newest first."""
    spec = spec if isinstance(spec, VersionSpec) else VersionSpec(spec)
    return sort_versions((item for item in versions if spec.matches(item)), reverse=True)


def select(versions, spec):
    """The version that ``spec`` picks among ``versions`` (highest match), or None."""
    spec = spec if isinstance(spec, VersionSpec) else VersionSpec(spec)
    return newest(item for item in versions if spec.matches(item))


# -- versions that YAML turned into numbers -------------------------------------------------------------
_FLOAT_TEXT = re.compile(r"^(\d+)\.(\d+)$")


def looks_like_float(text):
    """True for ``8.1``-shaped text: what an unquoted YAML version becomes once it is a number."""
    return bool(_FLOAT_TEXT.match(str(text).strip()))


def float_prefixes(text):
    """The version prefixes a float's text may stand for: ``8.1`` -> ``["8.1", "8.10"]`` (and 8.100, ... match too)."""
    text = str(text).strip()
    return [text, text + "0"] if looks_like_float(text) else [text]


def float_candidates(text, versions):
    """The versions a float's text could have been, newest first: first component equal, second component the
    float's fraction with any number of trailing zeros restored (``8.1`` -> 8.1.x, 8.10.x, 8.100.x, not 8.15.x).
    Empty when ``text`` is not float-shaped."""
    match = _FLOAT_TEXT.match(str(text).strip())
    if not match:
        return []
    major, fraction = match.groups()
    minor = re.compile(r"^%s0*$" % re.escape(fraction))
    found = []
    for version in versions:
        parts = str(version).split(".")
        if len(parts) >= 2 and parts[0] == major and minor.match(parts[1]):
            found.append(version)
    return sort_versions(found, reverse=True)
