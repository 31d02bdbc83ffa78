# Copyright: (c) 2026, goldenimage.azure contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Image specifications of every kind, and resolving many of them concurrently (``Resolver``).

An image specification (``spec``) is one of:

* a Marketplace URN string ``Publisher:Offer:Sku[:Version]`` (Version: ``latest``, a prefix such as
  ``22.04.*``, a glob, or an exact version, older ones included);
* a dict with ``publisher``, ``offer``, ``sku`` and optional ``version`` (or ``urn``);
* a managed image: a resource id ``/subscriptions/.../providers/Microsoft.Compute/images/NAME`` or a
  dict ``{"managed_image": {"name": ..., "resource_group": ...}}`` (or ``{"managed_image": {"id": ...}}``);
* a gallery image: the id of a definition (``.../galleries/G/images/I``, newest version) or of a version
  (``.../versions/1.2.3``), or ``{"gallery_image": {"gallery": G, "name": I, "resource_group": RG,
  "version": "latest"}}``.

Marketplace images are resolved by ``_marketplace``; managed images and gallery versions by
``_custom_images``.
"""

from __future__ import annotations

from ansible_collections.goldenimage.azure.plugins.module_utils import _custom_images, _resource_id
from ansible_collections.goldenimage.azure.plugins.module_utils._azure_client import AzureError
from ansible_collections.goldenimage.azure.plugins.module_utils._arm_names import parse_urn
from ansible_collections.goldenimage.azure.plugins.module_utils._marketplace import Marketplace

DEFAULT_CONCURRENCY = 8
MAX_CONCURRENCY = 32


# -- parsing ----------------------------------------------------------------------------------------------

def _label(spec):
    if isinstance(spec, str):
        return spec
    try:
        return ", ".join("%s=%s" % (key, spec[key]) for key in sorted(spec))
    except Exception:  # pylint: disable=broad-except
        return repr(spec)


def parse_spec(spec):
    """Normalise an image specification -> ``{"kind": marketplace|managed_image|gallery_image, ...}``.

    Makes no request. A version that YAML turned into a number is kept as ``version_number`` (the
    resolver names the versions it could have meant); ``urn`` together with publisher/offer/sku/version
    is refused, as is a resource id whose subscription is not a GUID.
    """
    if isinstance(spec, str):
        text = spec.strip()
        if text.startswith("/"):
            return _parse_id(text)
        parts = parse_urn(text)
        return dict(parts, kind="marketplace", requested=text)
    if not isinstance(spec, dict):
        raise AzureError("An image must be a URN string, a resource id or a dict; got %r." % (spec,),
                         operation="parse image")
    if spec.get("urn") is not None:
        both = [key for key in ("publisher", "offer", "sku", "version") if spec.get(key) is not None]
        if both:
            raise AzureError("Image %s gives urn together with %s: give either urn ('Publisher:Offer:Sku:Version') or "
                             "publisher, offer, sku and version, not both." % (_label(spec), ", ".join(both)),
                             code="ConflictingImageParts", operation="parse image")
    parsed = _parse_dict(spec)
    number = _number_version(spec)
    if number is not None:
        parsed["version_number"] = number
    return parsed


def _number_version(spec):
    """The version of ``spec`` (or of its gallery_image) when YAML made it a number (8.10 -> 8.1), else None."""
    for item in (spec, spec.get("gallery_image")):
        if isinstance(item, dict):
            value = item.get("version")
            if isinstance(value, float):  # an int (version: 8) reads back as it was written
                return value
    return None


def _parse_dict(spec):
    if "managed_image" in spec or "gallery_image" in spec:
        if "managed_image" in spec and "gallery_image" in spec:
            raise AzureError("Give either managed_image or gallery_image in one image, not both.",
                             operation="parse image")
        kind = "managed_image" if "managed_image" in spec else "gallery_image"
        inner = spec[kind]
        if isinstance(inner, str):
            inner = {"id": inner} if inner.startswith("/") else {"name": inner}
        if not isinstance(inner, dict):
            raise AzureError("%s must be a dict or a resource id; got %r." % (kind, inner), operation="parse image")
        return _parse_source(kind, inner)
    if spec.get("id"):
        return _parse_id(spec["id"], version=spec.get("version"), parameter="id")
    if spec.get("urn"):
        parts = parse_urn(spec["urn"])
        return dict(parts, kind="marketplace", requested=spec["urn"])
    missing = [key for key in ("publisher", "offer", "sku") if not spec.get(key)]
    if missing:
        raise AzureError("Image %s lacks %s (give publisher, offer, sku and optionally version, or a URN)."
                         % (_label(spec), ", ".join(missing)), operation="parse image")
    version = str(spec.get("version") or "latest")
    requested = ":".join((str(spec["publisher"]), str(spec["offer"]), str(spec["sku"]), version))
    return {"kind": "marketplace", "publisher": str(spec["publisher"]), "offer": str(spec["offer"]),
            "sku": str(spec["sku"]), "version": version, "requested": requested}


def _parse_source(kind, inner):
    if inner.get("id"):
        parsed = _parse_id(inner["id"], version=inner.get("version"), parameter="%s.id" % kind)
        if parsed["kind"] != kind:
            raise AzureError("%s id %r is not a %s id." % (kind, inner["id"], kind.replace("_", " ")),
                             operation="parse image")
        return parsed
    if inner.get("subscription_id") is not None:
        _resource_id.check_subscription(inner["subscription_id"], "%s.subscription_id" % kind)
    if kind == "managed_image":
        missing = [key for key in ("name", "resource_group") if not inner.get(key)]
        if missing:
            raise AzureError("managed_image needs %s (or an id)." % " and ".join(missing), operation="parse image")
        return {"kind": kind, "resource_group": inner["resource_group"], "name": inner["name"],
                "subscription_id": inner.get("subscription_id"),
                "requested": "%s/%s" % (inner["resource_group"], inner["name"])}
    name = inner.get("name") or inner.get("image") or inner.get("definition")
    missing = [key for key, value in (("gallery", inner.get("gallery")), ("name", name),
                                      ("resource_group", inner.get("resource_group"))) if not value]
    if missing:
        raise AzureError("gallery_image needs %s (or an id)." % ", ".join(missing), operation="parse image")
    version = str(inner.get("version") or "latest")
    return {"kind": kind, "resource_group": inner["resource_group"], "gallery": inner["gallery"], "name": name,
            "version": version, "subscription_id": inner.get("subscription_id"),
            "requested": "%s/%s/%s/%s" % (inner["resource_group"], inner["gallery"], name, version)}


IMAGE_TYPES = ("Microsoft.Compute/images", "Microsoft.Compute/galleries/images",
               "Microsoft.Compute/galleries/images/versions")


def _parse_id(rid, version=None, parameter="image"):
    """A managed image, gallery image definition or version id, parsed by ``_resource_id`` (its subscription kept)."""
    try:
        parsed = _resource_id.parse(rid, IMAGE_TYPES, parameter=parameter)
    except AzureError as err:
        if err.code == "InvalidSubscriptionId":
            raise  # names the parameter and the subscription segment
        raise AzureError("%r is not the id of a managed image, gallery image or gallery image version "
                         "(/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/images/NAME or "
                         ".../galleries/G/images/NAME[/versions/V])." % rid, code=err.code,
                         operation="parse image") from None
    names = parsed["names"]
    if len(names) == 1:
        return {"kind": "managed_image", "subscription_id": parsed["subscription"],
                "resource_group": parsed["resource_group"], "name": names[0], "requested": rid}
    return {"kind": "gallery_image", "subscription_id": parsed["subscription"], "resource_group": parsed["resource_group"],
            "gallery": names[0], "name": names[1],
            "version": names[2] if len(names) > 2 else str(version or "latest"), "requested": rid}


# -- many at once -----------------------------------------------------------------------------------------

class Resolver:
    """Resolve image specifications (one client, shared caches), many at a time on a bounded thread pool."""

    def __init__(self, client, location=None, max_concurrency=DEFAULT_CONCURRENCY):
        self.client = client
        self.location = location
        self.max_concurrency = max(1, min(int(max_concurrency or 1), MAX_CONCURRENCY))
        self.marketplace = Marketplace(client)

    def resolve(self, spec):
        parsed = parse_spec(spec)
        kind = parsed["kind"]
        sub = parsed.get("subscription_id") or self.marketplace.subscription_id
        if kind == "marketplace" and "version_number" in parsed and self.location:
            self.marketplace.float_versions(self.location, parsed["publisher"], parsed["offer"], parsed["sku"],
                                            parsed["version_number"])
        if kind == "marketplace":
            details = self.marketplace.resolve(self.location, parsed["publisher"], parsed["offer"], parsed["sku"],
                                               parsed["version"], requested=parsed["requested"])
            details["warnings"] = _marketplace_warnings(details)
            return details
        if kind == "gallery_image" and "version_number" in parsed:
            _custom_images.gallery_float_versions(self.client, sub, parsed["resource_group"], parsed["gallery"],
                                                  parsed["name"], parsed["version_number"])
        if kind == "managed_image":
            return _custom_images.resolve_managed_image(self.client, sub, parsed["resource_group"], parsed["name"],
                                                        self.location, parsed["requested"])
        return _custom_images.resolve_gallery_image(self.client, sub, parsed["resource_group"], parsed["gallery"],
                                                    parsed["name"], parsed["version"], self.location,
                                                    parsed["requested"])

    def resolve_many(self, specs):
        """Resolve every spec; returns the details in input order or raises one AzureError naming each failure.

        The first spec is resolved alone, so the credential fetches its token once; the rest run on up
        to ``max_concurrency`` threads that share the client, its token and the Marketplace cache.
        """
        specs = list(specs)
        results = [None] * len(specs)
        errors = {}

        def run(index):
            try:
                results[index] = self.resolve(specs[index])
            except AzureError as err:
                errors[index] = err

        if not specs:
            return []
        # Parse everything first: input mistakes fail before any request is made.
        for index, spec in enumerate(specs):
            try:
                parse_spec(spec)
            except AzureError as err:
                errors[index] = err
        if errors:
            raise _combined(specs, errors)
        run(0)
        rest = list(range(1, len(specs)))
        if rest and self.max_concurrency > 1 and len(rest) > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=min(self.max_concurrency, len(rest)),
                                    thread_name_prefix="goldenimage-resolve") as pool:
                list(pool.map(run, rest))
        else:
            for index in rest:
                run(index)
        if errors:
            raise _combined(specs, errors)
        return results


def _marketplace_warnings(details):
    warnings = []
    skipped = details.get("skipped_deprecated")
    if skipped:
        warnings.append("Marketplace image %s: '%s' skipped the newer deprecated version%s %s (Azure cannot create VMs "
                        "from a deprecated version) and picked %s." % (
                            details["requested"], details.get("version_spec"), "s" if len(skipped) > 1 else "",
                            ", ".join(skipped), details["version"]))
    deprecation = details.get("deprecation") or {}
    state = deprecation.get("state")
    if state and state != "Active":
        alternative = deprecation.get("alternative")
        warnings.append("Marketplace image %s is %s%s%s." % (
            details["urn"], state,
            " (scheduled %s)" % deprecation["scheduled_time"] if deprecation.get("scheduled_time") else "",
            "; alternative %s %s" % (alternative.get("type"), alternative.get("value")) if alternative else ""))
    return warnings


def _combined(specs, errors):
    if len(errors) == 1:
        return next(iter(errors.values()))
    lines = ["%d of %d images could not be resolved:" % (len(errors), len(specs))]
    for index in sorted(errors):
        lines.append("- image %d (%s): %s" % (index, _label(specs[index]), errors[index]))
    first = errors[min(errors)]
    return AzureError("\n".join(lines), status_code=first.status_code, code=first.code, operation="resolve images")
