"""Checks recorded Zoom exchanges against Zoom's own OpenAPI document, with openapi-core.

`check_exchange(recorded)` returns readable violations (an empty list when the exchange conforms).
The document is read from ../shared/zoom/ once per process, on first use (about 2 seconds), and
amended in memory where Zoom's real answers are known to go beyond it (`KNOWN_GAPS`), nowhere else.
"""

from __future__ import annotations

import functools
import json
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openapi_core import OpenAPI

    from opsflow.sandbox.zoom import Recorded

SPEC_FILE = Path(__file__).resolve().parents[2] / "shared" / "zoom" / "zoom-meeting-api.normalized.openapi.json"
ZOOM_HOST = "https://api.zoom.us"
OAUTH_PREFIX = "/oauth/"
MAX_HEADLINE = 160
_RECORDING_FILE = (
    "paths", "/meetings/{meetingId}/recordings", "get", "responses", "200", "content", "application/json",
    "schema", "properties", "recording_files", "items", "properties",
)
# (where in the document, the enum value Zoom sends that the document leaves out, why)
KNOWN_GAPS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    ((*_RECORDING_FILE, "status", "enum"), "processing",
     "Zoom lists the files of a recording it is still making with status 'processing'; the document's "
     "enum names only 'completed'"),
)


def spec_path() -> Path | None:
    """Where Zoom's normalized OpenAPI document is, or None when this checkout lacks it."""
    return SPEC_FILE if SPEC_FILE.is_file() else None


@functools.lru_cache(maxsize=1)
def _openapi() -> OpenAPI:
    from openapi_core import OpenAPI

    path = spec_path()
    if path is None:
        raise FileNotFoundError(f"Zoom's OpenAPI document not found at {SPEC_FILE}")
    document = json.loads(path.read_text(encoding="utf-8"))
    for where, value, _why in KNOWN_GAPS:
        node = document
        for key in where:
            node = node[key]
        if value not in node:
            node.append(value)
    return OpenAPI.from_dict(document, base_uri=path.as_uri())


def _header(headers: dict[str, str], name: str) -> str:
    return next((value for key, value in headers.items() if key.lower() == name.lower()), "")


def _describe(error: BaseException) -> list[str]:
    """An openapi-core error and the schema errors behind it, one line each."""
    headline = f"{type(error).__name__}: {error}"
    lines = [headline if len(headline) <= MAX_HEADLINE else headline[:MAX_HEADLINE] + "…"]
    cause: BaseException | None = error.__cause__ or error.__context__
    while cause is not None:
        for schema_error in getattr(cause, "schema_errors", None) or []:
            where = "/".join(str(part) for part in schema_error.absolute_path) or "(root)"
            lines.append(f"  at {where}: {schema_error.message}")
        cause = cause.__cause__ or cause.__context__
    return lines


def _declares_body(operation: Any, status: int) -> bool:
    """Whether the spec gives a JSON schema for this status of this operation."""
    responses = operation / "responses"
    key = str(status)
    if key not in responses:
        return False
    content = responses / key / "content"
    return "content" in (responses / key) and "application/json" in content


def check_exchange(recorded: Recorded) -> list[str]:
    """Violations of Zoom's API description in one recorded exchange; [] when it conforms.

    The request is validated against its operation (path, parameters, body). The response body is
    validated when the status is 2xx and the spec declares a schema for it. Token requests
    (/oauth/...) are not in the document and pass unchecked.
    """
    from openapi_core.testing import MockRequest, MockResponse

    if recorded.path.startswith(OAUTH_PREFIX):
        return []
    label = f"{recorded.method} {recorded.path}"
    if not recorded.path.startswith("/v2/"):
        return [f"{label}: not a Zoom API path (expected /v2/...)"]
    openapi = _openapi()
    request = MockRequest(
        ZOOM_HOST, recorded.method, recorded.path, args=recorded.query, headers=recorded.headers,
        data=recorded.body or None,
        content_type=(_header(recorded.headers, "Content-Type") or "application/json").lower(),
    )
    violations: list[str] = []
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Unsupported scheme type")
        result = openapi.unmarshal_request(request)
        for error in result.errors:
            violations += [f"{label} request: {line}" for line in _describe(error)]
        if violations or not 200 <= recorded.status < 300:
            return violations
        operation = _find_operation(openapi, request)
        if operation is None or not _declares_body(operation, recorded.status):
            return violations
        response = MockResponse(
            recorded.response_body, status_code=recorded.status, headers=recorded.response_headers,
            content_type=(_header(recorded.response_headers, "Content-Type") or "application/json").lower(),
        )
        response_result = openapi.unmarshal_response(request, response)
        for error in response_result.errors:
            violations += [f"{label} response {recorded.status}: {line}" for line in _describe(error)]
    return violations


def _find_operation(openapi: OpenAPI, request: Any) -> Any:
    from openapi_core.templating.paths.finders import APICallPathFinder

    try:
        found = APICallPathFinder(openapi.spec).find(request.method, f"{ZOOM_HOST}{request.path}")
    except Exception:  # no such path or method: already reported by the request check
        return None
    return found.operation
