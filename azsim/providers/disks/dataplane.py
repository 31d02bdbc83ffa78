"""The disk data plane over HTTPS: what a disk's SAS URL answers (the bytes themselves: ``blobdata.py``).

``https://<simulator>/_disk-blobs/{uniqueId}/abcd?sv=...&sr=b&si=...&sp=r|rw&se=...&sig=...``

- ``PUT ?comp=page`` (Put Page): ``x-ms-page-write: update`` writes the body at ``x-ms-range``/``Range``
  (``bytes=a-b``, 512-aligned: ``a % 512 == 0`` and ``(b + 1) % 512 == 0``, at most 4 MiB, inside the blob);
  ``clear`` zeroes the range. 201 Created with an ETag.
- ``GET`` (Get Blob): the whole blob (200, streamed) or one range (206 + Content-Range).
- ``HEAD`` (Get Blob Properties): Content-Length, ``x-ms-blob-type: PageBlob``.
- Errors are Azure Storage's: an XML ``<Error><Code/><Message/></Error>`` body and ``x-ms-error-code``.

This is Azure Storage, not ARM: no bearer token, no api-version, no ARM faults or throttling. Its replies are
raw bytes that the ARM pipeline (JSON bodies) cannot carry, so :func:`install` puts this handler in front of
``Sim.handle`` for paths under ``/_disk-blobs/``; every other path goes on to ARM unchanged. Requests are
logged with ``kind: blob``; due operations finish first, as for any request.
"""

from __future__ import annotations

import atexit
import datetime as dt
import re
import time
import uuid
from urllib.parse import unquote
from xml.sax.saxutils import escape

from aiohttp import web

from . import blobdata

RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")
STREAM_CHUNK = 1024 * 1024
MESSAGES = {
    "AuthenticationFailed": (403, "Server failed to authenticate the request. Make sure the value of Authorization "
                                  "header is formed correctly including the signature."),
    "AuthorizationPermissionMismatch": (403, "This request is not authorized to perform this operation using this "
                                             "permission."),
    "BlobNotFound": (404, "The specified blob does not exist."),
    "InvalidPageRange": (416, "The page range specified is invalid."),
    "InvalidRange": (416, "The range specified is invalid for the current size of the resource."),
    "RequestBodyTooLarge": (413, "The request body is too large and exceeds the maximum permissible limit."),
    "MissingRequiredHeader": (400, "An HTTP header that's mandatory for this request is not specified."),
    "InvalidHeaderValue": (400, "The value for one of the HTTP headers is not in the correct format."),
    "UnsupportedHttpVerb": (405, "The resource doesn't support the specified HTTP verb."),
    "InvalidQueryParameterValue": (400, "Value for one of the query parameters specified in the request URI is "
                                        "invalid."),
}


class BlobError(Exception):
    def __init__(self, code, detail=None):
        super().__init__(code)
        self.code = code
        self.status, self.message = MESSAGES[code]
        self.detail = detail

    def response(self, request_id):
        detail = f" {self.detail}" if self.detail else ""
        body = (f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{self.code}</Code><Message>'
                f"{escape(self.message + detail)}\nRequestId:{request_id}\nTime:{_now_text()}</Message></Error>")
        return web.Response(status=self.status, body=body.encode("utf-8"), content_type="application/xml",
                            headers={"x-ms-error-code": self.code, "x-ms-request-id": request_id})


def _now_text():
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def install(sim):
    """Serve ``/_disk-blobs/`` ahead of the ARM pipeline; returns the BlobStore (``sim.extensions["disk_blobs"]``)."""
    store = blobdata.BlobStore(sim)
    sim.extensions["disk_blobs"] = store
    sim.deletion_hooks.append(store.forget)
    atexit.register(store.close)
    arm_handle = sim.handle

    async def handle(request):
        if request.rel_url.raw_path.lower().startswith(blobdata.BLOB_PREFIX):
            return await serve(sim, store, request)
        return await arm_handle(request)

    sim.handle = handle
    return store


async def serve(sim, store, request):
    started = time.perf_counter()
    request_id = str(uuid.uuid4())
    method = request.method.upper()
    path = unquote(request.rel_url.raw_path)
    try:
        sim.ops.tick()  # a grant that is due takes effect before its SAS is used
        resource = _resource(store, path)
        query = dict(request.rel_url.query)
        if method == "PUT":
            reply = await _put(sim, store, resource, request, query)
        elif method in ("GET", "HEAD"):
            reply = await _get(sim, store, resource, request, query, head=method == "HEAD")
        else:
            raise BlobError("UnsupportedHttpVerb")
    except BlobError as err:
        reply = err.response(request_id)
    sim.log_request({
        "time": dt.datetime.now(dt.timezone.utc).isoformat(), "method": method, "path": path,
        "query": {key: value for key, value in request.rel_url.query.items() if key != "sig"},
        "status": reply.status, "kind": "blob", "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        "client_request_id": request.headers.get("x-ms-client-request-id"), "dropped": False,
    })
    return reply


def _resource(store, path):
    parts = path[len(blobdata.BLOB_PREFIX):].strip("/").split("/")
    resource = store.find(parts[0]) if parts and parts[0] else None
    if resource is None or len(parts) != 2:
        raise BlobError("BlobNotFound")
    return resource


def _authorize(sim, resource, query, want):
    code = blobdata.check_sas(sim.token_key, resource, query, sim.clock.time(), want)
    if code:
        raise BlobError(code)


def _range(headers):
    """(start, end or None) from x-ms-range (preferred) or Range; None without either."""
    text = headers.get("x-ms-range") or headers.get("Range")
    if not text:
        return None
    found = RANGE.match(text.strip())
    if not found:
        raise BlobError("InvalidHeaderValue", f"Range '{text}' is not bytes=start-end.")
    return int(found.group(1)), (int(found.group(2)) if found.group(2) else None)


def _headers(store, resource):
    return {"ETag": f'"0x{store.length(resource):X}{resource["properties"]["uniqueId"][:8].upper()}"',
            "Last-Modified": time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime()),
            "x-ms-version": blobdata.SAS_VERSION, "x-ms-request-server-encrypted": "true"}


async def _put(sim, store, resource, request, query):
    if query.get("comp", "").lower() != "page":
        raise BlobError("InvalidQueryParameterValue", "Only Put Page (comp=page) writes to a disk.")
    _authorize(sim, resource, query, "w")
    mode = (request.headers.get("x-ms-page-write") or "").lower()
    if mode not in ("update", "clear"):
        raise BlobError("MissingRequiredHeader" if not mode else "InvalidHeaderValue", "x-ms-page-write: update|clear")
    span = _range(request.headers)
    if span is None or span[1] is None:
        raise BlobError("MissingRequiredHeader", "x-ms-range: bytes=start-end")
    start, end = span
    length = end - start + 1
    if start % blobdata.PAGE or (end + 1) % blobdata.PAGE or length <= 0 or end >= store.length(resource):
        raise BlobError("InvalidPageRange")
    if mode == "update" and length > blobdata.MAX_PAGE_WRITE:
        raise BlobError("RequestBodyTooLarge")
    if request.content_length is not None and request.content_length > blobdata.MAX_PAGE_WRITE:
        raise BlobError("RequestBodyTooLarge")
    data = await request.read()
    if mode == "clear":
        if data:
            raise BlobError("InvalidHeaderValue", "A clear sends no body.")
        store.clear(resource, start, length)
    else:
        if len(data) != length:
            raise BlobError("InvalidHeaderValue", f"Content-Length {len(data)} does not match the range ({length}).")
        store.write(resource, start, data)
    return web.Response(status=201, headers=dict(_headers(store, resource), **{"x-ms-blob-sequence-number": "0"}))


async def _get(sim, store, resource, request, query, head):
    _authorize(sim, resource, query, "r")
    size = store.length(resource)
    headers = dict(_headers(store, resource), **{"x-ms-blob-type": "PageBlob", "Accept-Ranges": "bytes",
                                                 "Content-Type": "application/octet-stream"})
    span = None if head else _range(request.headers)
    if span is not None:
        start, end = span
        end = size - 1 if end is None else min(end, size - 1)
        if start >= size or end < start:
            raise BlobError("InvalidRange")
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    else:
        start, end, status = 0, size - 1, 200
    headers["Content-Length"] = str(end - start + 1)
    if head:
        return web.Response(status=200, headers=headers)
    response = web.StreamResponse(status=status, headers=headers)
    await response.prepare(request)
    with store.open_read(resource) as handle:
        handle.seek(start)
        remaining = end - start + 1
        while remaining:
            chunk = handle.read(min(remaining, STREAM_CHUNK))
            if not chunk:
                break
            await response.write(chunk)
            remaining -= len(chunk)
    await response.write_eof()
    return response
