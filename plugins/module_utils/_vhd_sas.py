# -*- coding: utf-8 -*-
# Copyright: goldenimage.azure contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private: the blob side of a disk's SAS URL (Put Page, Get Blob, Get Blob Properties) for disk_upload/export.

The SAS URL is a storage endpoint, not ARM: the SAS in its query is the authorisation, so no bearer token is
sent. TLS is checked as for ARM: ``verify`` is the session's CA bundle (``REQUESTS_CA_BUNDLE``) or the system
store. The SAS is registered as a secret, so no error message or result can show it.

``SasBlob(url, verify, pool)``: ``properties()`` -> Content-Length, ``put_page(offset, data)``,
``clear_pages(offset, length)``, ``get_range(offset, length)``. Transient failures (connection errors, 408/429/500/503/504) are retried with a
backoff; anything else raises AzureError with the storage error code (``x-ms-error-code``).
"""

from __future__ import annotations

import time

from ansible_collections.goldenimage.azure.plugins.module_utils._azure_errors import AzureError, register_secret

try:
    import requests
    from requests.adapters import HTTPAdapter
except ImportError:  # reported by the module through missing_required_lib
    requests = None

MAX_PAGE_WRITE = 4 * 1024 * 1024
RETRY_STATUS = (408, 429, 500, 502, 503, 504)
ATTEMPTS = 5
TIMEOUT = (15, 120)  # connect, read (seconds)
API_VERSION = "2018-03-28"


class SasBlob:
    def __init__(self, url, verify=True, pool=8):
        if requests is None:
            raise AzureError("the requests Python package is required for disk uploads and exports",
                             code="MissingDependency")
        register_secret(url)
        register_secret(url.split("?", 1)[-1])
        self.url = url
        self.verify = verify
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max(1, pool))
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.trust_env = False  # no proxy or netrc credentials for the SAS host; verify is passed explicitly

    def _send(self, method, operation, params=None, headers=None, data=None, stream=False, ok=(200,)):
        sent = dict(headers or {}, **{"x-ms-version": API_VERSION})
        delay = 0.5
        for attempt in range(ATTEMPTS):
            try:
                response = self.session.request(method, self.url, params=params, headers=sent, data=data,
                                                verify=self.verify, timeout=TIMEOUT, stream=stream)
            except requests.RequestException as err:
                if attempt + 1 == ATTEMPTS:
                    raise AzureError("%s failed: %s" % (operation, err), operation=operation) from None
            else:
                if response.status_code in ok:
                    return response
                if response.status_code not in RETRY_STATUS or attempt + 1 == ATTEMPTS:
                    raise _storage_error(operation, response)
                response.close()
            time.sleep(delay)
            delay = min(delay * 2, 8)
        raise AzureError("%s failed" % operation, operation=operation)  # not reached

    def properties(self):
        response = self._send("HEAD", "read the disk's blob properties")
        return {"size": int(response.headers.get("Content-Length") or 0),
                "blob_type": response.headers.get("x-ms-blob-type")}

    def put_page(self, offset, data):
        end = offset + len(data) - 1
        self._send("PUT", "write pages %d-%d" % (offset, end), params={"comp": "page"}, data=data, ok=(201,),
                   headers={"x-ms-page-write": "update", "x-ms-range": "bytes=%d-%d" % (offset, end),
                            "Content-Length": str(len(data)), "Content-Type": "application/octet-stream"})

    def clear_pages(self, offset, length):
        """Zero a range without sending it (x-ms-page-write: clear)."""
        end = offset + length - 1
        self._send("PUT", "clear pages %d-%d" % (offset, end), params={"comp": "page"}, ok=(201,),
                   headers={"x-ms-page-write": "clear", "x-ms-range": "bytes=%d-%d" % (offset, end),
                            "Content-Length": "0"})

    def get_range(self, offset, length):
        end = offset + length - 1
        response = self._send("GET", "read bytes %d-%d" % (offset, end), ok=(206,),
                              headers={"x-ms-range": "bytes=%d-%d" % (offset, end)})
        data = response.content
        if len(data) != length:
            raise AzureError("read bytes %d-%d: got %d bytes, expected %d" % (offset, end, len(data), length),
                             operation="read bytes")
        return data

    def close(self):
        self.session.close()


def _storage_error(operation, response):
    code = response.headers.get("x-ms-error-code")
    text = response.text or ""
    message = text
    if "<Message>" in text:
        message = text.split("<Message>", 1)[1].split("</Message>", 1)[0].split("\n", 1)[0]
    detail = (": " + message) if message else ""
    return AzureError("%s failed: HTTP %d %s%s" % (operation, response.status_code, code or "", detail),
                      status_code=response.status_code, code=code, operation=operation)
