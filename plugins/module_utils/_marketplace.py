# Copyright: (c) 2026, goldenimage.azure contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Marketplace (platform) images: listing, ``latest``/prefix/exact resolution and full details.

Every function takes an ARM client and plain values and raises ``AzureError``. The client is the client
layer's ``AzureSession`` (or a wrapper with its ``arm_get``/``arm_list`` and ``subscription_id``): its
light REST path applies the bearer token, azure-core retries (429/5xx with ``Retry-After``), the user
agent and the CA bundle, and translates errors once.

Request budget (see ``docs/architecture.md``):

* ``latest`` or a prefix: one versions list (ordered here numerically, never by ARM's lexical
  ``$orderby``) and one version GET for the details.
* An exact version: one version GET.
* Errors only: extra listings to say which part is wrong and to suggest the closest names.

Name filters (``name_filter``): ``glob`` (default) matches the whole name, case-insensitively, with
shell wildcards (``*``, ``?``, ``[...]``); ``regex`` is a Python regular expression searched anywhere in
the name, case-insensitively (anchor with ``^``/``$``).
"""

from __future__ import annotations

import fnmatch
import re

from ansible_collections.goldenimage.azure.plugins.module_utils._arm_names import (  # noqa: F401  # pylint: disable=unused-import
    format_urn,
    normalize_location,
    parse_urn,
)
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import AzureError
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_errors import is_missing
from ansible_collections.goldenimage.azure.plugins.module_utils._single_flight import SingleFlight
from ansible_collections.goldenimage.azure.plugins.module_utils._versions import (
    VersionSpec,
    float_candidates,
    float_prefixes,
    matching,
    sort_versions,
)

# Marketplace artifacts: imageDeprecationStatus needs 2023-09-01 or later.
MARKETPLACE_API = "2024-11-01"
LOCATIONS_API = "2022-12-01"
LEVELS = ("publishers", "offers", "skus", "versions")
_SUGGEST = 5
# Candidates named for a version that YAML read as a number.
_FLOAT_SHOWN = 20
# Deprecated newest versions stepped over by latest/prefix before giving up.
_DEPRECATED_SKIPS = 3
# Characters ARM names may hold that stay as they are in a path.


# -- wire helpers -------------------------------------------------------------------------------------

def subscription_of(client):
    """The subscription id an azure-mgmt client (or light ARM client) was built for."""
    value = getattr(client, "subscription_id", None)
    if not value:
        config = getattr(client, "_config", None)
        value = getattr(config, "subscription_id", None)
    if not value:
        raise AzureError("The ARM client has no subscription id.", operation="configure client")
    return value


def arm_get(client, path, api_version, operation, query=None, missing_ok=False):
    """GET an ARM path (unquoted names, relative to the ARM endpoint, or an absolute nextLink) -> JSON.

    ``client`` is the client layer's ``AzureSession`` (or a wrapper with its ``arm_get``): its light REST
    path, its error translation. A 404 returns None when ``missing_ok``.
    """
    try:
        return client.arm_get(path, api_version, params=query, operation=operation)
    except AzureError as err:
        if missing_ok and is_missing(err):  # SubscriptionNotFound is never "missing"
            return None
        raise


def arm_list(client, path, api_version, operation, query=None):
    """All items of a pageable ARM list (``{"value": [...], "nextLink": ...}``) or of a bare array."""
    return client.arm_list(path, api_version, params=query, operation=operation)


# -- names, filters, suggestions ----------------------------------------------------------------------

def float_hint(version, versions):
    """For an exact version that does not exist and reads like a YAML float (8.1): the 8.1x versions, or ''."""
    candidates = float_candidates(version, versions)
    if not candidates:
        return ""
    return (" If %s came from an unquoted YAML number (8.10 reads as 8.1), the versions it could mean (starting %s): "
            "%s." % (version, " or ".join(float_prefixes(version)), ", ".join(candidates[:_FLOAT_SHOWN])))


def float_message(number, versions, where, parameter="version"):
    """The message for a version that arrived as a number: every version it could have meant, newest first."""
    text = str(number)
    prefixes = " or ".join(float_prefixes(text))
    candidates = float_candidates(text, versions)
    if candidates:
        more = len(candidates) - _FLOAT_SHOWN
        found = "Versions of %s it could mean (starting %s): %s%s." % (
            where, prefixes, ", ".join(candidates[:_FLOAT_SHOWN]), " and %d more" % more if more > 0 else "")
    else:
        found = "No version of %s starts with %s." % (where, prefixes)
    return ("%s: %s is a number, not a version: YAML reads an unquoted version such as 8.10 as the number 8.1, so "
            "which version was meant cannot be known. Quote it (%s: \"...\"). %s" % (parameter, text, parameter, found))


def name_filter_func(pattern, filter_type="glob"):
    """A predicate for ``pattern`` (None = everything); raises AzureError on a bad regular expression."""
    if not pattern:
        return lambda name: True
    if filter_type == "regex":
        try:
            compiled = re.compile(pattern, re.IGNORECASE)
        except re.error as err:
            raise AzureError("Invalid regular expression %r in name_filter: %s" % (pattern, err),
                             operation="filter names") from None
        return lambda name: compiled.search(name) is not None
    if filter_type != "glob":
        raise AzureError("Unknown filter type %r; use glob or regex." % filter_type, operation="filter names")
    lowered = pattern.lower()
    return lambda name: fnmatch.fnmatchcase(name.lower(), lowered)


def closest(name, candidates, count=_SUGGEST):
    """Up to ``count`` candidates closest to ``name`` (difflib, case-insensitive), best first."""
    import difflib  # only error paths need it

    by_lower = {}
    for item in candidates:
        by_lower.setdefault(item.lower(), item)
    found = difflib.get_close_matches(str(name).lower(), list(by_lower), n=count, cutoff=0.5)
    if len(found) < count:
        # Also names that contain the wanted one or that it contains (e.g. 'ubuntu' -> 'ubuntu-24_04-lts').
        wanted = str(name).lower()
        for key in sorted(by_lower):
            if len(found) >= count:
                break
            if key not in found and wanted and (wanted in key or key in wanted):
                found.append(key)
    return [by_lower[key] for key in found]


def suggestion(kind, name, candidates, total_hint=True):
    """"Closest <kind>: a, b." (or how many exist) for a wrong ``name``: the one close-match message of the collection."""
    return _suggestion(kind, name, candidates, total_hint)


def _suggestion(kind, name, candidates, total_hint=True):
    near = closest(name, candidates)
    if near:
        return "Closest %s: %s." % (kind, ", ".join(near))
    if not candidates:
        return "There are no %s here." % kind
    if total_hint:
        sample = ", ".join(sorted(candidates, key=str.lower)[:_SUGGEST])
        return "No similar %s; %d exist (e.g. %s)." % (kind, len(candidates), sample)
    return ""


def _find(name, candidates):
    lowered = str(name).lower()
    for item in candidates:
        if item.lower() == lowered:
            return item
    return None


def list_locations(client, subscription_id):
    """The subscription's regions as ARM lists them (``name``, ``displayName``, ...): one GET."""
    return arm_list(client, "/subscriptions/%s/locations" % subscription_id, LOCATIONS_API, "list locations")


# -- details --------------------------------------------------------------------------------------------

_TRUTHY = ("true", "yes", "1")


def _flag(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUTHY


def features_from_wire(items):
    """Azure ``features`` [{name, value}] -> documented keys plus every raw feature by name."""
    raw = {}
    for item in items or []:
        if isinstance(item, dict) and item.get("name"):
            raw[item["name"]] = item.get("value")
    lookup = {key.lower(): value for key, value in raw.items()}
    security = lookup.get("securitytype")
    controllers = lookup.get("diskcontrollertypes")
    security_lower = (security or "").lower()
    return {
        "security_type": security,
        "trusted_launch": "trustedlaunch" in security_lower if security else None,
        "confidential_vm": "confidentialvm" in security_lower if security else None,
        "accelerated_networking": _flag(lookup.get("isacceleratednetworksupported")),
        "disk_controller_types": [part.strip() for part in str(controllers).split(",") if part.strip()]
        if controllers else [],
        "hibernate": _flag(lookup.get("ishibernatesupported")),
        "raw": raw,
    }


def plan_from_wire(plan, urn=None):
    """A Marketplace plan (or None) and what deploying it needs."""
    if not plan:
        return None
    result = {
        "name": plan.get("name"),
        "publisher": plan.get("publisher"),
        "product": plan.get("product"),
        "terms_required": True,
        "terms_note": (
            "This image has a purchase plan: VMs need the plan in their 'plan' block and the Marketplace terms "
            "accepted once per subscription (Microsoft.MarketplaceOrdering agreements, e.g. "
            "'az vm image terms accept --urn %s')." % urn if urn else
            "This image has a purchase plan: VMs need the plan and accepted Marketplace terms."
        ),
    }
    return result


def deprecation_from_wire(status):
    status = status or {}
    alternative = status.get("alternativeOption") or None
    state = status.get("imageState") or "Active"
    return {
        "state": state,
        "scheduled_time": status.get("scheduledDeprecationTime"),
        "alternative": {"type": alternative.get("type"), "value": alternative.get("value")} if alternative else None,
        "deployable": state != "Deprecated",
    }


def image_details(body, location, publisher, offer, sku, requested=None):
    """A ``VirtualMachineImage`` wire body -> the collection's details dict (see image_facts RETURN)."""
    props = body.get("properties") or {}
    version = body.get("name")
    urn = format_urn(publisher, offer, sku, version)
    os_disk = props.get("osDiskImage") or {}
    disallowed = props.get("disallowed") or {}
    upgrade = props.get("automaticOSUpgradeProperties") or {}
    return {
        "source": "marketplace",
        "requested": requested or urn,
        "urn": urn,
        "id": body.get("id"),
        "location": location or body.get("location"),
        "publisher": publisher,
        "offer": offer,
        "sku": sku,
        "version": version,
        "image_reference": {"publisher": publisher, "offer": offer, "sku": sku, "version": version},
        # Azure's defaults when the field is absent: Gen1, x64.
        "hyper_v_generation": props.get("hyperVGeneration") or "V1",
        "architecture": props.get("architecture") or "x64",
        "os_type": os_disk.get("operatingSystem"),
        "os_disk_size_gb": os_disk.get("sizeInGb", os_disk.get("sizeInGB")),
        "data_disk_images": [
            {"lun": item.get("lun"), "size_gb": item.get("sizeInGb", item.get("sizeInGB"))}
            for item in props.get("dataDiskImages") or []
        ],
        "plan": plan_from_wire(props.get("plan"), urn),
        "features": features_from_wire(props.get("features")),
        "disallowed": {"vm_disk_type": disallowed.get("vmDiskType")} if disallowed else {"vm_disk_type": None},
        "deprecation": deprecation_from_wire(props.get("imageDeprecationStatus")),
        "automatic_os_upgrade_supported": upgrade.get("automaticOSUpgradeSupported"),
    }


# -- the catalogue ----------------------------------------------------------------------------------------

class Marketplace:
    """Marketplace reads for one client, with a thread-safe single-flight cache.

    One instance may serve many threads: identical reads (same versions list, same version GET) are
    made once and shared, so resolving twenty images of one SKU costs one list.
    """

    def __init__(self, client):
        self.client = client
        self.subscription_id = subscription_of(client)
        self._flight = SingleFlight()

    def _once(self, key, func):
        return self._flight.run(key, func, operation="read Marketplace")

    def _base(self, location):
        # ARM wants the programmatic name ('eastus'); accept display names ('East US') as az CLI does
        return "/subscriptions/%s/providers/Microsoft.Compute/locations/%s" % (
            self.subscription_id, normalize_location(location))

    def _names(self, path, operation, missing_ok=False):
        body = arm_get(self.client, path, MARKETPLACE_API, operation, missing_ok=missing_ok)
        if body is None:
            return None
        items = body if isinstance(body, list) else body.get("value") or []
        return [item.get("name") for item in items if isinstance(item, dict) and item.get("name")]

    # raw listings (None when ARM says 404) ---------------------------------------------------------
    def publishers(self, location, missing_ok=False):
        return self._once(("publishers", normalize_location(location)), lambda: self._names(
            self._base(location) + "/publishers", "list Marketplace publishers in %s" % location, missing_ok))

    def offers(self, location, publisher, missing_ok=False):
        return self._once(("offers", normalize_location(location), publisher.lower()), lambda: self._names(
            self._base(location) + "/publishers/%s/artifacttypes/vmimage/offers" % publisher,
            "list offers of %s in %s" % (publisher, location), missing_ok))

    def skus(self, location, publisher, offer, missing_ok=False):
        return self._once(("skus", normalize_location(location), publisher.lower(), offer.lower()), lambda: self._names(
            self._base(location) + "/publishers/%s/artifacttypes/vmimage/offers/%s/skus" % (publisher, offer),
            "list SKUs of %s:%s in %s" % (publisher, offer, location), missing_ok))

    def versions(self, location, publisher, offer, sku, missing_ok=False):
        key = ("versions", normalize_location(location), publisher.lower(), offer.lower(), sku.lower())
        path = self._base(location) + "/publishers/%s/artifacttypes/vmimage/offers/%s/skus/%s/versions" % (
            publisher, offer, sku)
        operation = "list versions of %s:%s:%s in %s" % (publisher, offer, sku, location)
        return self._once(key, lambda: self._names(path, operation, missing_ok))

    def version(self, location, publisher, offer, sku, version, missing_ok=False):
        key = ("version", normalize_location(location), publisher.lower(), offer.lower(), sku.lower(), version.lower())
        path = self._base(location) + "/publishers/%s/artifacttypes/vmimage/offers/%s/skus/%s/versions/%s" % (
            publisher, offer, sku, version)
        operation = "get Marketplace image %s in %s" % (format_urn(publisher, offer, sku, version), location)
        return self._once(key, lambda: arm_get(self.client, path, MARKETPLACE_API, operation, missing_ok=missing_ok))

    def locations(self):
        def get():
            return [item.get("name") for item in list_locations(self.client, self.subscription_id) if item.get("name")]
        return self._once(("locations",), get)

    # listing with filters -------------------------------------------------------------------------------
    def listing(self, level, location, publisher=None, offer=None, sku=None, name_filter=None, filter_type="glob"):
        """Names at one level (publishers/offers/skus/versions), filtered; versions newest first."""
        if level not in LEVELS:
            raise AzureError("Unknown listing level %r; use one of %s." % (level, ", ".join(LEVELS)),
                             operation="list Marketplace images")
        needs = {"offers": ("publisher",), "skus": ("publisher", "offer"), "versions": ("publisher", "offer", "sku")}
        given = {"publisher": publisher, "offer": offer, "sku": sku}
        missing = [name for name in needs.get(level, ()) if not given[name]]
        if missing:
            raise AzureError("Listing %s needs %s." % (level, " and ".join(missing)),
                             operation="list Marketplace images")
        keep = name_filter_func(name_filter, filter_type)
        if level == "publishers":
            names = self.publishers(location, missing_ok=True)
        elif level == "offers":
            names = self.offers(location, publisher, missing_ok=True)
        elif level == "skus":
            names = self.skus(location, publisher, offer, missing_ok=True)
        else:
            names = self.versions(location, publisher, offer, sku, missing_ok=True)
        if names is None:
            operation = "list Marketplace %s" % level
            self.diagnose(location, publisher, offer, sku, None, operation)
            raise AzureError("Marketplace listing of %s was not found in %s." % (level, location),
                             status_code=404, code="NotFound", operation=operation)
        names = [name for name in names if keep(name)]
        if level == "versions":
            return sort_versions(names, reverse=True)
        return sorted(names, key=lambda item: (item.lower(), item))

    def versions_with_details(self, location, publisher, offer, sku, name_filter=None, filter_type="glob"):
        """Every version of one SKU with its details, newest first, in one request (``$expand=properties``)."""
        keep = name_filter_func(name_filter, filter_type)
        operation = "list versions of %s:%s:%s with details in %s" % (publisher, offer, sku, location)
        path = self._base(location) + "/publishers/%s/artifacttypes/vmimage/offers/%s/skus/%s/versions" % (
            publisher, offer, sku)
        body = arm_get(self.client, path, MARKETPLACE_API, operation, query={"$expand": "properties"},
                       missing_ok=True)
        if body is None:
            self.diagnose(location, publisher, offer, sku, None, operation)
            raise AzureError("Marketplace versions of %s:%s:%s were not found in %s."
                             % (publisher, offer, sku, location), status_code=404, code="NotFound",
                             operation=operation)
        items = body if isinstance(body, list) else body.get("value") or []
        by_name = {item["name"]: item for item in items if isinstance(item, dict) and item.get("name")}
        result = []
        for name in sort_versions((name for name in by_name if keep(name)), reverse=True):
            names = self._canonical_names(by_name[name], publisher, offer, sku)
            result.append(image_details(by_name[name], normalize_location(location), *names))
        return result

    # diagnosis of a 404 -----------------------------------------------------------------------------------
    def diagnose(self, location, publisher, offer, sku, version, operation):
        """Raise the AzureError that names the wrong part (location/publisher/offer/SKU/version).

        Called after ARM answered 404 (or 400); lists each level down to the first part that does not
        exist and suggests the closest names. Returns only when every part exists (the caller raises).
        """
        def fail(message):
            raise AzureError(message, status_code=404, code="NotFound", operation=operation)

        try:
            publishers = self.publishers(location, missing_ok=True)
        except AzureError as err:
            if err.status_code != 400:
                raise
            publishers = None  # e.g. NoRegisteredProviderFound / LocationNotAvailableForResourceType
        if not publishers:
            known = self._known_locations()
            if known is not None and normalize_location(location) not in {normalize_location(item) for item in known}:
                fail("Location '%s' does not exist for this subscription. %s"
                     % (location, _suggestion("locations", location, known)))
            if publishers is None:
                fail("No Marketplace images are offered in location '%s'." % location)
        if not publisher:
            return
        found = _find(publisher, publishers or [])
        if found is None:
            fail("Publisher '%s' does not exist in %s. %s"
                 % (publisher, location, _suggestion("publishers", publisher, publishers or [])))
        if not offer:
            return
        offers = self.offers(location, found, missing_ok=True) or []
        found_offer = _find(offer, offers)
        if found_offer is None:
            fail("Offer '%s' does not exist for publisher '%s' in %s. %s"
                 % (offer, found, location, _suggestion("offers", offer, offers)))
        if not sku:
            return
        skus = self.skus(location, found, found_offer, missing_ok=True) or []
        found_sku = _find(sku, skus)
        if found_sku is None:
            fail("SKU '%s' does not exist for %s:%s in %s. %s"
                 % (sku, found, found_offer, location, _suggestion("SKUs", sku, skus)))
        if not version:
            return
        versions = self.versions(location, found, found_offer, found_sku, missing_ok=True) or []
        if _find(version, versions) is None:
            newest = ", ".join(sort_versions(versions, reverse=True)[:3])
            near = closest(version, versions)
            fail("Version '%s' does not exist for %s:%s:%s in %s. %s%s Newest: %s."
                 % (version, found, found_offer, found_sku, location,
                    ("Closest versions: %s." % ", ".join(near)) if near else "No similar versions.",
                    float_hint(version, versions), newest or "none"))

    def _known_locations(self):
        try:
            return self.locations()
        except AzureError:
            return None

    # resolution ---------------------------------------------------------------------------------------------
    def resolve(self, location, publisher, offer, sku, version="latest", requested=None):
        """One image -> details dict with the concrete version. ``version``: latest, a prefix, a glob or exact."""
        if not location:
            raise AzureError("A location is needed to resolve Marketplace image %s." % (requested or publisher),
                             operation="resolve Marketplace image")
        spec = VersionSpec(version)
        shown = requested or format_urn(publisher, offer, sku, spec.text)
        operation = "resolve Marketplace image %s" % shown

        deprecated = []

        def not_found(checked_version):
            self.diagnose(location, publisher, offer, sku, checked_version, operation)
            return AzureError("Marketplace image %s was not found in %s." % (shown, location),
                              status_code=404, code="NotFound", operation=operation)

        try:
            if spec.is_exact:
                body = self.version(location, publisher, offer, sku, spec.text, missing_ok=True)
                if body is None:
                    raise not_found(spec.text)
            else:
                names = self.versions(location, publisher, offer, sku, missing_ok=True)
                if names is None:
                    raise not_found(None)
                candidates = matching(names, spec)
                if not candidates:
                    newest = sort_versions(names, reverse=True)[:5]
                    raise AzureError(
                        "No version of %s:%s:%s in %s matches '%s'. Newest versions: %s."
                        % (publisher, offer, sku, location, spec.text, ", ".join(newest) or "none"),
                        status_code=404, code="NotFound", operation=operation)
                body = self._newest_deployable(location, publisher, offer, sku, candidates, operation, deprecated)
        except AzureError as err:
            if err.status_code == 400:  # e.g. an unknown location: say which part is wrong
                self.diagnose(location, publisher, offer, sku, None, operation)
            raise
        names = self._canonical_names(body, publisher, offer, sku)
        details = image_details(body, normalize_location(location), *names, requested=shown)
        details["version_spec"] = spec.text
        details["skipped_deprecated"] = deprecated
        return details

    def float_versions(self, location, publisher, offer, sku, number, parameter="version"):
        """Raise the AzureError for a version that YAML read as a number: it names every version it could mean.

        ``version: 8.10`` unquoted is the float 8.1, whose text has lost the trailing zero; the versions
        meant are those starting 8.1 or 8.10 (8.100, ...). One versions list (none when it fails).
        """
        operation = "resolve Marketplace image %s" % format_urn(publisher, offer, sku, str(number))
        names = self.versions(location, publisher, offer, sku, missing_ok=True)
        if names is None:
            self.diagnose(location, publisher, offer, sku, None, operation)
            names = []
        raise AzureError(float_message(number, names, "%s:%s:%s in %s" % (publisher, offer, sku, location),
                                       parameter), code="VersionIsNumber")  # the message names the parameter

    def _newest_deployable(self, location, publisher, offer, sku, candidates, operation, deprecated=None):
        """GET the newest candidate; step past Deprecated ones (VMs cannot be created from them), at most a few.

        Usually one GET: only a deprecated newest version costs more. The versions stepped over because
        they are Deprecated are appended to ``deprecated`` (the caller warns about them).
        """
        skipped = []
        for chosen in candidates[:1 + _DEPRECATED_SKIPS]:
            body = self.version(location, publisher, offer, sku, chosen, missing_ok=True)
            if body is None:  # removed between the list and the GET
                skipped.append("%s (gone)" % chosen)
                continue
            status = (body.get("properties") or {}).get("imageDeprecationStatus") or {}
            if status.get("imageState") == "Deprecated":
                skipped.append("%s (Deprecated)" % chosen)
                if deprecated is not None:
                    deprecated.append(chosen)
                continue
            return body
        raise AzureError("No deployable version of %s:%s:%s in %s among the newest: %s. Ask for an exact version to "
                         "read a deprecated one." % (publisher, offer, sku, location, ", ".join(skipped)),
                         status_code=404, code="NotFound", operation=operation)

    @staticmethod
    def _canonical_names(body, publisher, offer, sku):
        """Publisher/offer/SKU as ARM spells them, read from the version id when it has them."""
        rid = body.get("id") or ""
        parts = rid.split("/")
        lowered = [part.lower() for part in parts]
        names = []
        for segment, default in (("publishers", publisher), ("offers", offer), ("skus", sku)):
            if segment in lowered and lowered.index(segment) + 1 < len(parts):
                names.append(parts[lowered.index(segment) + 1])
            else:
                names.append(default)
        return names
