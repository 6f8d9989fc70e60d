"""Schemathesis hooks for scripts/api-conformance.sh: the operations external systems call with a
tenant API key rather than a token.

- The credential feed (POST /api/v1/t/{tenant}/credential-events) is signed: X-Api-Key,
  X-Timestamp and X-Signature = hex HMAC-SHA256(secret, timestamp + "." + body). The signature is
  computed over the body exactly as sent (a requests auth hook sees the prepared request), and only
  where the generated case carries the header: a case without it tests that it is required.
- Open311 intake (POST /open311/v2/{tenant}/requests.json) carries the key whole in the form's
  `api_key` field, and names a stall by `attribute[code]`.

In cases schemathesis means to be valid, these hooks put in the real key, a real stall's code and a
real vendor (schemathesis revalidates a case a hook changed, so a case stays negative only when
something else in it is wrong). The values come from the environment the script sets.
"""

import hashlib
import hmac
import os
import time

import requests
import schemathesis

KEY_ID = os.environ["FEED_KEY_ID"]
SECRET = os.environ["FEED_KEY_SECRET"]
STALL_CODE = os.environ["FEED_STALL_CODE"]
VENDOR_ID = os.environ["FEED_VENDOR_ID"]

CREDENTIAL_EVENTS = "/api/v1/t/{tenant}/credential-events"
OPEN311_REQUESTS = "/open311/v2/{tenant}/requests.json"


class FeedSignature(requests.auth.AuthBase):
    """Signs a prepared request: the headers the case carries get the key id, now and the HMAC."""

    def __call__(self, request):
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        timestamp = str(int(time.time()))
        headers = {name.lower(): name for name in request.headers}
        if "x-api-key" in headers:
            request.headers[headers["x-api-key"]] = KEY_ID
        if "x-timestamp" in headers:
            request.headers[headers["x-timestamp"]] = timestamp
        if "x-signature" in headers:
            mac = hmac.new(SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
            request.headers[headers["x-signature"]] = mac.hexdigest()
        return request


def _filled(value):
    return isinstance(value, str) and value.strip() != ""


@schemathesis.hook
def map_case(context, case):
    path, method = case.operation.path, case.operation.method.upper()
    if method != "POST" or not isinstance(case.body, dict):
        return case
    if path == OPEN311_REQUESTS:
        body = dict(case.body)
        if _filled(body.get("api_key")):
            body["api_key"] = f"{KEY_ID}.{SECRET}"
        if _filled(body.get("attribute[code]")):
            body["attribute[code]"] = STALL_CODE
        case.body = body
    elif path == CREDENTIAL_EVENTS:
        body = dict(case.body)
        if _filled(body.get("vendor_id")):
            body["vendor_id"] = VENDOR_ID
        case.body = body
    return case


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.operation.path == CREDENTIAL_EVENTS:
        kwargs["auth"] = FeedSignature()
