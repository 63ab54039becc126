"""Request parameters -> pydantic models, with errors that name the parameter at fault."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from analyzer.errors import InvalidParameter

if TYPE_CHECKING:  # the CLI validates with this module and need not import Flask
    from flask import Request
    from werkzeug.datastructures import MultiDict

M = TypeVar("M", bound=BaseModel)


@cache
def _list_fields(model: type[BaseModel]) -> frozenset[str]:
    """Fields that take lists: a repeated or single query key both become a list for them."""
    return frozenset(
        name for name, info in model.model_fields.items() if "list" in str(info.annotation).lower()
    )


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _fields(source: MultiDict[str, str], lists: frozenset[str]) -> dict[str, Any]:
    """Repeated keys become lists, and so does any key of a list field."""
    values: dict[str, Any] = {}
    for key in source:
        items = source.getlist(key)
        values[key] = items if key in lists or len(items) > 1 else items[0]
    return values


def request_values(request: Request, model: type[BaseModel]) -> dict[str, Any]:
    """Query string and body merged; the body wins. Repeated keys become lists.

    A body is read whatever its form: JSON (also when sent as a form, as `curl -d '{...}'`
    does), or form fields like query parameters. Uploaded files and other media types are a
    415, never silently ignored.
    """
    lists = _list_fields(model)
    values = _fields(request.args, lists)
    if request.method not in {"POST", "PUT", "PATCH"}:
        return values
    if request.mimetype in FORM_TYPES:
        raw = request.get_data(cache=True)
        if raw.lstrip()[:1] == b"{":
            values.update(_json_object(request, force=True))
            return values
        if request.files:
            raise _unsupported("file uploads are not read")
        values.update(_fields(request.form, lists))
        return values
    if not request.get_data(cache=True):
        return values
    if request.mimetype and not request.is_json and not request.mimetype.startswith("text/"):
        raise _unsupported(f"a {request.mimetype} body is not read")
    body = _json_object(request, force=True)
    check_json_types(model, body)
    values.update(body)
    return values


def _json_object(request: Request, *, force: bool) -> dict[str, Any]:
    body = request.get_json(force=force, silent=True)
    if not isinstance(body, dict):
        raise InvalidParameter(
            "the request body is not a JSON object",
            code="INVALID_JSON",
            suggestion="Send Content-Type: application/json with an object body.",
        )
    return body


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
    "string": (str,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


@cache
def _declared_types(model: type[BaseModel]) -> dict[str, tuple[frozenset[str], int]]:
    """Each field's JSON types as /openapi.json states them (only fields that state them),
    with the least length of a list's text items."""
    out: dict[str, tuple[frozenset[str], int]] = {}
    for name, prop in model.model_json_schema().get("properties", {}).items():
        options = prop.get("anyOf", [prop])
        kinds = {o.get("type") for o in options}
        if all(isinstance(k, str) for k in kinds):
            least = int((prop.get("items") or {}).get("minLength", 0))
            out[name] = (frozenset(kinds), least)  # type: ignore[arg-type]
    return out


def _is_json_type(value: Any, kind: str) -> bool:
    if kind == "integer" and isinstance(value, float):
        return value.is_integer()  # JSON Schema: 3.0 is an integer
    if kind != "boolean" and isinstance(value, bool):
        return False
    return isinstance(value, _JSON_TYPES.get(kind, ()))


def check_json_types(model: type[BaseModel], body: dict[str, Any]) -> None:
    """A JSON body's values have the JSON types the document states: `true` for a boolean,
    not `1` or `"yes"` (query strings, all text, are read leniently instead)."""
    declared = _declared_types(model)
    for name, value in body.items():
        if name not in declared:
            continue
        kinds, least = declared[name]
        ok = any(_is_json_type(value, kind) for kind in kinds)
        if ok and least and isinstance(value, list):
            ok = all(not isinstance(item, str) or len(item) >= least for item in value)
        if not ok:
            raise InvalidParameter(
                f"invalid value for '{name}': a JSON {' or '.join(sorted(kinds))} is expected"
                + (f" (items of at least {least} characters)" if least else "")
                + f", not {type(value).__name__} {str(value)[:40]!r}",
                code="INVALID_PARAMETER",
                suggestion="See /openapi.json for each parameter's type.",
                details={"parameter": name},
            )


def _unsupported(why: str) -> InvalidParameter:
    return InvalidParameter(
        f"{why}; send the parameters as JSON, form fields or a query string",
        code="UNSUPPORTED_MEDIA_TYPE",
        status=415,
        suggestion="Send Content-Type: application/json with an object body.",
    )


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
