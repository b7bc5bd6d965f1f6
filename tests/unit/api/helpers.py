"""Helpers shared by the api stage's unit tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pgwsgi.api.model import Field, JsonStep
from pgwsgi.errors import ApiError


def fails(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> ApiError:
    """The ApiError FN raises for ARGS (the test fails if it raises none)."""
    with pytest.raises(ApiError) as info:
        fn(*args, **kwargs)
    return info.value


def assert_parse_error(err: ApiError, message: str, details: str | None = None) -> None:
    """ERR is PostgREST's 400 PGRST100 with MESSAGE (and DETAILS, when given)."""
    assert (err.status, err.code) == (400, "PGRST100")
    assert err.message == message
    if details is not None:
        assert err.details == details


def col(name: str, *steps: tuple[str, str | int]) -> Field:
    """A field with a JSON path: col("data", ("->", "a"), ("->>", 0))."""
    return Field(name, tuple(JsonStep(a, k) for a, k in steps))  # type: ignore[arg-type]
