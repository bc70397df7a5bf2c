"""Exception handlers that render every error as problem+json."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import (
    PROBLEM_CONTENT_TYPE,
    AppError,
    BadRequest,
    FieldError,
    MalformedJson,
    MethodNotAllowed,
    NotFound,
    ValidationFailed,
)


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_CONTENT_TYPE


def render(error: AppError, request: Request) -> ProblemResponse:
    return ProblemResponse(
        error.to_problem(request.url.path), status_code=error.status, headers=error.headers
    )


def _field_name(location: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in location) or "body"


def validation_problem(exc: RequestValidationError) -> AppError:
    errors = exc.errors()
    if any(error.get("type") == "json_invalid" for error in errors):
        return MalformedJson("the request body is not valid JSON")
    field_errors = [
        FieldError(
            field=_field_name(error.get("loc", ())),
            # pydantic messages never echo the input value, so they are safe to return.
            message=str(error.get("msg", "invalid")),
            type=str(error.get("type", "invalid")),
        )
        for error in errors
    ]
    summary = "; ".join(f"{e.field}: {e.message}" for e in field_errors[:5])
    return ValidationFailed(summary or "invalid input", field_errors)


def install_handlers(app: FastAPI) -> None:
    async def on_app_error(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, AppError)
        return render(exc, request)

    async def on_validation(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, RequestValidationError)
        return render(validation_problem(exc), request)

    async def on_http(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, StarletteHTTPException)
        error: AppError
        if isinstance(exc.__cause__, AppError):
            # FastAPI wraps errors raised while reading the body (our size limit) in a 400.
            return render(exc.__cause__, request)
        if exc.status_code == 404:
            error = NotFound(f"no route {request.method} {request.url.path}")
        elif exc.status_code == 405:
            error = MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}")
        else:
            error = BadRequest(str(exc.detail))
            error.status = exc.status_code
        response = render(error, request)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    app.add_exception_handler(AppError, on_app_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
