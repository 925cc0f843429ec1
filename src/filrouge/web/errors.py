"""Every error the HTTP layer returns has one shape: ``{"error": {"code", "message", "field"?}}``.

Messages are translated from the catalogue by ``Accept-Language`` (French by default), and
every rejection is logged with its reason.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from filrouge.core.errors import DomainError
from filrouge.core.uploads import megabytes
from filrouge.i18n import N_, negotiate_locale, translate

log = logging.getLogger("filrouge.rejections")
JSON_PREFIXES = ("/api/", "/hooks/", "/metrics")

_HTTP_CODES = {
    400: ("bad_request", N_("The request could not be read.")),
    401: ("unauthorized", N_("A valid API token is required (Authorization: Bearer …).")),
    403: ("forbidden", N_("Your role does not allow this action.")),
    404: ("not_found", N_("There is nothing at this address.")),
    405: ("method_not_allowed", N_("This method is not allowed here.")),
    413: ("request_too_large", N_("The request is too large.")),
    415: ("unsupported_media_type", N_("This content type is not accepted here.")),
}
# A body over FILROUGE_MAX_REQUEST_BYTES: an API client is told the byte limit; on a page it is
# an agent whose files do not fit in one request.
REQUEST_TOO_LARGE = N_("The request is larger than {limit} bytes.")
FORM_TOO_LARGE = N_(
    "This is too much to send at once (more than {limit_mb} MB). Send fewer or smaller files."
)


def error_response(
    request: Request,
    status: int,
    code: str,
    message_id: str,
    field: str | None = None,
    **params: Any,
) -> Response:
    locale = negotiate_locale(request.headers.get("accept-language"))
    message = translate(message_id, locale, field=field, **params)
    body: dict[str, Any] = {"code": code, "message": message}
    if field:
        body["field"] = field
    log.info(
        "rejected %s %s -> %s %s: %s",
        request.method,
        request.url.path,
        status,
        code,
        translate(message_id, "en", field=field, **params),
    )
    if not request.url.path.startswith(JSON_PREFIXES):
        return error_page(request, status, message)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def error_page(request: Request, status: int, message: str) -> Response:
    from filrouge.web.ui.templating import render

    return render(request, "error.html", {"status": status, "message": message}, status=status)


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    params = {k: v for k, v in exc.params.items() if k != "field"}
    return error_response(request, exc.status, exc.code, exc.message_id, exc.field, **params)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    if first.get("type") == "json_invalid":
        return error_response(request, 400, "malformed_json", "The body is not valid JSON.")
    location = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
    field = ".".join(location) or None
    if first.get("type") == "missing":
        return error_response(request, 422, "missing_field", "{field} is required.", field)
    return error_response(
        request,
        422,
        "invalid_field",
        "{field} is invalid: {reason}.",
        field,
        reason=first.get("msg", ""),
    )


def too_large_response(request: Request, limit: int) -> Response:
    """413 for a body over ``limit`` bytes: JSON for the API, a page that says why for forms."""
    if request.url.path.startswith(JSON_PREFIXES):
        return error_response(request, 413, "request_too_large", REQUEST_TOO_LARGE, limit=limit)
    return error_response(
        request, 413, "request_too_large", FORM_TOO_LARGE, limit_mb=megabytes(limit)
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    limit = getattr(exc, "limit", None)  # web.limits.BodyTooLarge: a streamed body too long
    if exc.status_code == 413 and isinstance(limit, int):
        return too_large_response(request, limit)
    code, message_id = _HTTP_CODES.get(exc.status_code, ("http_error", N_("The request failed.")))
    response = error_response(request, exc.status_code, code, message_id)
    response.headers.update(exc.headers or {})  # e.g. Allow on a 405
    return response


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(request, exc.status, exc.code, exc.message_id, exc.field, **exc.params)


class ApiError(Exception):
    """A refusal made by the HTTP layer itself (authentication, roles)."""

    def __init__(
        self, status: int, code: str, message_id: str, field: str | None = None, **params: Any
    ) -> None:
        super().__init__(message_id)
        self.status, self.code, self.message_id = status, code, message_id
        self.field, self.params = field, params


def http_error(
    status: int, code: str, message_id: str, field: str | None = None, **params: Any
) -> ApiError:
    return ApiError(status, code, message_id, field, **params)


async def _login_required(request: Request, exc: Exception) -> Response:
    from filrouge.web.ui.auth import LoginRequired

    assert isinstance(exc, LoginRequired)
    return RedirectResponse(exc.next_url, status_code=303)


def install_error_handlers(app: FastAPI) -> None:
    from filrouge.web.ui.auth import LoginRequired

    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
