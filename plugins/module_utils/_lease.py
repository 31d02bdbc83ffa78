# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: the lease of a temporary resource group, written as two tags and read back.

A build's group says when it was made (``goldenimage-lease-created``) and until when its run may still use it
(``goldenimage-lease-expires``), both ISO 8601 UTC to the second. The expiry is the creation time plus the sum of
the run's bounds (create, connect, generalize, capture, replication, delete) and a margin for the steps without a
bound of their own. Past it the run that made the group is dead, and the sweep (_sweep) may delete the group.
Reading never guesses: a missing or malformed tag gives None, which the sweep takes as "not expired".
"""

from __future__ import annotations

import datetime

from ansible_collections.goldenimage.azure.plugins.module_utils._arm_names import (
    LEASE_TIME_FORMAT,
    TAG_LEASE_CREATED,
    TAG_LEASE_EXPIRES,
)

MIN_SECONDS = 60  # a shorter lease would let a sweep delete a group its run is still creating


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def format_time(moment):
    return moment.astimezone(datetime.timezone.utc).strftime(LEASE_TIME_FORMAT)


def parse_time(value):
    """A lease tag's value as an aware UTC datetime; None when it is not exactly the format written here."""
    try:
        return datetime.datetime.strptime(str(value), LEASE_TIME_FORMAT).replace(tzinfo=datetime.timezone.utc)
    except (TypeError, ValueError):
        return None


def lease_tags(lease_seconds, now=None):
    """The two lease tags of a group created ``now`` (default: this second) whose run ends within ``lease_seconds``."""
    created = now or utc_now()
    expires = created + datetime.timedelta(seconds=int(lease_seconds))
    return {TAG_LEASE_CREATED: format_time(created), TAG_LEASE_EXPIRES: format_time(expires)}


def expiry(tags):
    """(expires, problem): the lease's expiry from a group's tags, or None and why it cannot be read."""
    tags = tags or {}
    if TAG_LEASE_EXPIRES not in tags:
        return None, f"no lease tag {TAG_LEASE_EXPIRES} (a group from an older version; delete it by hand)"
    expires = parse_time(tags[TAG_LEASE_EXPIRES])
    if expires is None:
        return None, (f"lease tag {TAG_LEASE_EXPIRES}='{tags[TAG_LEASE_EXPIRES]}' is not an ISO 8601 UTC time "
                      "(YYYY-MM-DDTHH:MM:SSZ); not expired, kept")
    return expires, None
