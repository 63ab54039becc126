"""Request parameters -> pydantic models, with errors that name the parameter at fault."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from analyzer.errors import InvalidParameter

if TYPE_CHECKING:  # the CLI validates with this module and need not import Flask
    from flask import Request

M = TypeVar("M", bound=BaseModel)


@cache
def _list_fields(model: type[BaseModel]) -> frozenset[str]:
    """Fields that take lists: a repeated or single query key both become a list for them."""
    return frozenset(
        name for name, info in model.model_fields.items() if "list" in str(info.annotation).lower()
    )


def request_values(request: Request, model: type[BaseModel]) -> dict[str, Any]:
    """Query string and JSON body merged; the body wins. Repeated query keys become lists."""
    values: dict[str, Any] = {}
    lists = _list_fields(model)
    for key in request.args:
        items = request.args.getlist(key)
        values[key] = items if key in lists or len(items) > 1 else items[0]
    if request.method in {"POST", "PUT", "PATCH"} and request.data:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise InvalidParameter(
                "the request body is not a JSON object",
                code="INVALID_JSON",
                suggestion="Send Content-Type: application/json with an object body.",
            )
        values.update(body)
    return values


def parse_params(model: type[M], request: Request, **extra: Any) -> M:
    values = request_values(request, model)
    values.update(extra)
    return validate(model, values)


def validate(model: type[M], values: dict[str, Any]) -> M:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise invalid_from(exc, model) from None


def invalid_from(exc: ValidationError, model: type[BaseModel]) -> InvalidParameter:
    first = exc.errors()[0]
    loc = first.get("loc") or ("request",)
    where = ".".join(str(p) for p in loc)
    name = str(loc[0])
    if first.get("type") == "extra_forbidden":
        known = ", ".join(sorted(model.model_fields))
        return InvalidParameter(
            f"unknown parameter '{name}'",
            code="UNKNOWN_PARAMETER",
            suggestion=f"Known parameters: {known}.",
            details={"parameter": name},
        )
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    info = model.model_fields.get(name)
    hint = info.description if info and info.description else None
    return InvalidParameter(
        f"invalid value for '{where}': {message}",
        code="INVALID_PARAMETER",
        suggestion=hint or "See /openapi.json for the accepted values.",
        details={"parameter": name, "errors": len(exc.errors())},
    )
