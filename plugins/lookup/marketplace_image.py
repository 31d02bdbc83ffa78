# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: marketplace_image
short_description: Resolve Azure Marketplace images (C(latest), prefixes, exact versions) inside templates and inventories
version_added: 1.0.0
description:
  - Resolves each term, a Marketplace URN C(Publisher:Offer:Sku:Version), to one concrete version and returns its
    details, the same dict as P(goldenimage.azure.image_facts#module) returns in RV(goldenimage.azure.image_facts#module:images).
  - C(latest) and prefixes such as C(22.04.*) pick the numerically highest version (C(8.10.x) above C(8.9.x)).
  - C(latest) and prefixes skip a newer version that is C(Deprecated) (Azure creates no VM from it) and pick the
    newest deployable one; when that happens a warning names the skipped versions (and the result's
    C(skipped_deprecated) lists them). Ask for the exact version to read a deprecated one.
  - A dict term whose C(version) YAML turned into a number (an unquoted V(8.10) is the number 8.1) fails, naming every
    version it could have meant (those starting C(8.1) or C(8.10)); an exact version given as text that does not
    exist but reads like such a number gets the same candidates in its message. Quote versions.
  - A dict term with C(urn) together with C(publisher), C(offer), C(sku) or C(version) is an error.
  - Resource id terms are read in the subscription they name, with the same credential; a subscription in an id that
    is not a GUID fails before any request.
  - Terms may also be dicts with C(publisher), C(offer), C(sku), C(version), or managed image and gallery image
    resource ids, as O(goldenimage.azure.image_facts#module:images) accepts.
  - Works in C(group_vars), C(host_vars), inventories, templates and task arguments. Results are cached for the
    rest of the C(ansible-playbook) run (in memory and in the run's local temporary directory, shared by forks), so
    every host and task sees the same concrete version and ARM is asked once per image.
  - Several terms are resolved concurrently.
author:
  - goldenimage.azure contributors (@goldenimage)
options:
  _terms:
    description: Image URNs (or dicts or resource ids) to resolve.
    required: true
    type: list
    elements: raw
  location:
    description:
      - Azure region of the Marketplace to read, for example V(eastus).
    type: str
    required: true
    env:
      - name: AZURE_LOCATION
    vars:
      - name: goldenimage_location
  field:
    description:
      - Return only this key of each result instead of the whole dict; a dotted path reaches into nested
        dicts, for example V(urn), V(version), V(image_reference) or V(features.security_type).
    type: str
  max_concurrency:
    description: Most images resolved at the same time.
    type: int
    default: 8
  cache:
    description:
      - Reuse results within the run. V(false) always asks ARM.
    type: bool
    default: true
notes:
  - Each C(latest) or prefix term costs two ARM GET requests (versions list and version), an exact version one.
  - A bad publisher, offer, SKU, version or location fails with a message naming it and the closest existing names.
  - Results are marked unsafe (text from Azure such as tags and plan names is never templated), also with
    C(allow_unsafe=True).
seealso:
  - module: goldenimage.azure.image_facts
extends_documentation_fragment:
  - goldenimage.azure.azure
"""

EXAMPLES = r"""
- name: The concrete URN of the newest Ubuntu 24.04 image
  ansible.builtin.debug:
    msg: "{{ lookup('goldenimage.azure.marketplace_image', 'Canonical:ubuntu-24_04-lts:server:latest',
             location='eastus', field='urn') }}"

- name: Whole details, e.g. to choose Trusted Launch
  ansible.builtin.set_fact:
    base_image: "{{ lookup('goldenimage.azure.marketplace_image', 'RedHat:RHEL:8-lvm-gen2:8.*', location='eastus') }}"

# group_vars/all.yml: pinned once per run for every host
# base_image_urn: "{{ lookup('goldenimage.azure.marketplace_image', 'Debian:debian-12:12-gen2:latest',
#                             location=azure_location, field='urn') }}"

- name: Several images at once (a list back)
  ansible.builtin.debug:
    msg: "{{ query('goldenimage.azure.marketplace_image', 'Canonical:ubuntu-24_04-lts:server:latest',
                   'MicrosoftWindowsServer:WindowsServer:2022-datacenter-g2:latest', location='eastus', field='version') }}"
"""

RETURN = r"""
_raw:
  description:
    - One entry per term, the image details dict (keys as in RV(goldenimage.azure.image_facts#module:images)),
      or the value of O(field).
  type: list
  elements: raw
  sample:
    - source: marketplace
      urn: Canonical:ubuntu-24_04-lts:server:24.04.202411200
      version: 24.04.202411200
      hyper_v_generation: V2
      architecture: x64
      os_type: Linux
      image_reference: {publisher: Canonical, offer: ubuntu-24_04-lts, sku: server, version: 24.04.202411200}
"""

import copy
import hashlib
import json
import os
import tempfile

from ansible.errors import AnsibleError
from ansible.plugins.lookup import LookupBase
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.goldenimage.azure.plugins.module_utils._arm_names import normalize_location
from ansible_collections.goldenimage.azure.plugins.module_utils._image_sources import MAX_CONCURRENCY, Resolver
from ansible_collections.goldenimage.azure.plugins.plugin_utils._azure_plugin import azure_errors, session_from_plugin

# Results of this controller process, keyed by cloud/subscription/location/term.
_CACHE = {}
_CACHE_DIR_NAME = "goldenimage-marketplace-image"


def _cache_dir():
    """The run's local temp dir (created by the controller before forking, removed at exit), or None."""
    try:
        from ansible import constants as C

        base = C.DEFAULT_LOCAL_TMP
    except Exception:  # pylint: disable=broad-except
        return None
    if not base or not os.path.isdir(base):
        return None
    path = os.path.join(base, _CACHE_DIR_NAME)
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
    except OSError:
        return None
    return path


def _key(session, location, term):
    return json.dumps([session.arm_endpoint, session.subscription_id.lower(), normalize_location(location), term],
                      sort_keys=True, default=str)


def _cache_get(key):
    if key in _CACHE:
        return copy.deepcopy(_CACHE[key])
    folder = _cache_dir()
    if folder:
        path = os.path.join(folder, hashlib.sha256(key.encode("utf-8")).hexdigest() + ".json")
        try:
            with open(path, encoding="utf-8") as handle:
                stored = json.load(handle)
        except (OSError, ValueError):
            return None
        if stored.get("key") == key:
            _CACHE[key] = stored["value"]
            return copy.deepcopy(stored["value"])
    return None


def _cache_put(key, value):
    _CACHE[key] = copy.deepcopy(value)
    folder = _cache_dir()
    if not folder:
        return
    path = os.path.join(folder, hashlib.sha256(key.encode("utf-8")).hexdigest() + ".json")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".entry-")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"key": key, "value": value}, handle)
        os.replace(tmp, path)
    except OSError:
        pass  # the in-memory cache still serves this process


def _pick(value, field):
    for part in field.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        else:
            raise AnsibleError("marketplace_image: the result has no field %r (fields: %s)"
                               % (field, ", ".join(sorted(value)) if isinstance(value, dict) else "none"))
    return value


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        location = self.get_option("location")
        field = self.get_option("field")
        use_cache = self.get_option("cache")
        concurrency = self.get_option("max_concurrency")
        if not 1 <= concurrency <= MAX_CONCURRENCY:
            raise AnsibleError("marketplace_image: max_concurrency must be between 1 and %d" % MAX_CONCURRENCY)
        if not terms:
            return []
        session = session_from_plugin(self)
        with azure_errors():
            keys = [_key(session, location, term) for term in terms]
            results = [(_cache_get(key) if use_cache else None) for key in keys]
            todo = [index for index, value in enumerate(results) if value is None]
            if todo:
                resolver = Resolver(session, location=location, max_concurrency=concurrency)
                resolved = resolver.resolve_many([terms[index] for index in todo])
                for index, details in zip(todo, resolved):
                    for warning in details.get("warnings") or []:
                        self._display.warning(warning)
                    results[index] = details
                    if use_cache:
                        _cache_put(keys[index], details)
        # Azure's text (tags, plan names, descriptions) is data, never a template, even with allow_unsafe=True.
        if field:
            return wrap_var([_pick(details, field) for details in results])
        return wrap_var(results)
