"""pgwsgi.api.payload: write bodies (JSON, CSV, form) as one JSON text, and reading the request body."""

from __future__ import annotations

import io
import json

import pytest

from pgwsgi.api import payload
from pgwsgi.api.model import Payload
from pgwsgi.api.payload import PARSE_LIMIT, parse_payload, read_body, request_body
from pgwsgi.errors import ApiError
from tests.unit.api.helpers import fails


def answer(err: ApiError) -> tuple[int, str, str, object, object]:
    return err.status, err.code, err.message, err.details, err.hint


class Stream:
    """A WSGI input stream that hands out at most STEP bytes per read and records the reads."""

    def __init__(self, data: bytes, step: int | None = None) -> None:
        self.buffer = io.BytesIO(data)
        self.step = step
        self.reads: list[int] = []

    def read(self, size: int = -1) -> bytes:
        self.reads.append(size)
        if self.step is not None and (size < 0 or size > self.step):
            size = self.step
        return self.buffer.read(size)


INVALID_JSON = (400, "PGRST102", "Empty or invalid json", None, None)
KEYS_DIFFER = (400, "PGRST102", "All object keys must match", None, None)

# -- JSON --------------------------------------------------------------------------------------------


def test_json_object_is_passed_through_with_its_keys_in_order():
    body = b'{"b": 1, "a": 2}'
    result = parse_payload(body, "application/json")
    assert result == Payload(b'{"b": 1, "a": 2}', True, ("b", "a"))
    assert result.json is body


def test_json_array_keys_come_from_the_first_object():
    body = bytearray(b'[{"b": 1, "a": 2}, {"a": 3, "b": 4}]')
    result = parse_payload(body, "application/json")
    assert result == Payload(b'[{"b": 1, "a": 2}, {"a": 3, "b": 4}]', False, ("b", "a"))
    assert result.json is body


def test_missing_content_type_means_json():
    assert parse_payload(b'{"a": 1}', "") == Payload(b'{"a": 1}', True, ("a",))


@pytest.mark.parametrize(
    "doc",
    [
        [{"name": "elder", "qty": 1}, {"name": "fig"}],
        [{"name": "elder"}, {"name": "fig", "note": "n"}],
        [{"name": "elder"}, 123, "fig"],
        [7, {"name": "elder"}],
        [[1]],
    ],
)
def test_array_rows_must_be_objects_with_the_same_keys(doc):
    assert answer(fails(parse_payload, json.dumps(doc).encode(), "application/json")) == KEYS_DIFFER


def test_any_keys_lifts_the_same_keys_rule():
    body = b'[{"a": 1}, {"b": 2, "c": 3}]'
    assert parse_payload(body, "application/json", any_keys=True) == Payload(body, False, ("a",))


def test_any_keys_still_needs_objects():
    assert answer(fails(parse_payload, b'[{"a": 1}, 3]', "application/json", any_keys=True)) == KEYS_DIFFER


def test_empty_array_has_no_keys():
    assert parse_payload(b"[]", "application/json") == Payload(b"[]", False, ())


@pytest.mark.parametrize("body", [b"5", b'"x"', b"null", b"true", b" 1.5 "])
def test_scalar_body_is_an_empty_array(body):
    assert parse_payload(body, "application/json") == Payload(b"[]", False, ())


@pytest.mark.parametrize("body", [b"}{ x = 2", b"", b'{"name": ', b"\xff", b"[1,]", b"  "])
def test_invalid_json_is_pgrst102(body):
    assert answer(fails(parse_payload, body, "application/json")) == INVALID_JSON


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/octet-stream"])
def test_other_content_types_are_not_acceptable(content_type):
    assert answer(fails(parse_payload, b"{}", content_type)) == (
        400,
        "PGRST102",
        f"Content-Type not acceptable: {content_type}",
        None,
        None,
    )


# -- large JSON bodies ----------------------------------------------------------------------------------


def test_parse_limit_is_one_mebibyte():
    assert PARSE_LIMIT == 1 << 20


def test_json_body_over_the_parse_limit_is_passed_through_unparsed():
    body = b"[" + b",".join([b'{"name": "x"}'] * 80_000) + b"]"
    assert len(body) > PARSE_LIMIT
    result = parse_payload(body, "application/json")
    assert (result.is_object, result.keys) == (False, None)
    assert result.json is body


@pytest.mark.parametrize(
    ("body", "is_object"),
    [
        (b'{"name": "big object"}', True),
        (b' \r\n\t[{"name": "x"}]', False),
        (b'[{"name": "x"}, {nope', False),  # invalid JSON is PostgreSQL's to find
        (b'[{"a": 1}, {"b": 2}]', False),  # and so are differing keys
    ],
)
def test_large_json_body_is_only_checked_for_its_first_character(monkeypatch, body, is_object):
    monkeypatch.setattr(payload, "PARSE_LIMIT", 8)
    result = parse_payload(body, "application/json")
    assert (result.json, result.is_object, result.keys) == (body, is_object, None)


@pytest.mark.parametrize("body", [b'"a long string"', b"12345678901", b"          ", b"nope, not json"])
def test_large_body_that_cannot_be_an_object_or_array_is_invalid(monkeypatch, body):
    monkeypatch.setattr(payload, "PARSE_LIMIT", 8)
    assert answer(fails(parse_payload, body, "application/json")) == INVALID_JSON


# -- CSV ------------------------------------------------------------------------------------------------


def test_csv_rows_are_objects_of_strings_with_null_and_empty_fields():
    result = parse_payload(b"name,qty,note\nkiwi,4,NULL\nlime,5,", "text/csv")
    assert result == Payload(
        b'[{"name": "kiwi", "qty": "4", "note": null}, {"name": "lime", "qty": "5", "note": ""}]',
        False,
        ("name", "qty", "note"),
    )


def test_csv_quoted_fields_keep_commas_and_quotes():
    result = parse_payload(b'a,b\n"x,y","say ""hi"""\n"",z', "text/csv")
    assert json.loads(result.json) == [{"a": "x,y", "b": 'say "hi"'}, {"a": "", "b": "z"}]
    assert result.keys == ("a", "b")


def test_csv_with_crlf_line_endings():
    assert json.loads(parse_payload(b"a,b\r\n1,2\r\n", "text/csv").json) == [{"a": "1", "b": "2"}]


@pytest.mark.parametrize("body", [b"", b"a,b\n", b"a,b"])
def test_csv_without_rows_is_an_empty_array(body):
    assert parse_payload(body, "text/csv") == Payload(b"[]", False, ())


@pytest.mark.parametrize("body", [b"name,qty\nkiwi,4\nlime", b"a\n1,2", b"a,b\n1,2,3"])
def test_csv_lines_with_another_number_of_fields_are_pgrst102(body):
    assert answer(fails(parse_payload, body, "text/csv")) == (
        400,
        "PGRST102",
        "All lines must have same number of fields",
        None,
        None,
    )


def test_csv_that_is_not_utf8_is_pgrst102_with_the_decoding_error():
    assert answer(fails(parse_payload, b"a\n\xff", "text/csv")) == (
        400,
        "PGRST102",
        "Error in CSV input",
        "'utf-8' codec can't decode byte 0xff in position 2: invalid start byte",
        None,
    )


def test_csv_is_not_subject_to_the_parse_limit(monkeypatch):
    monkeypatch.setattr(payload, "PARSE_LIMIT", 1)
    assert parse_payload(b"a\n1", "text/csv") == Payload(b'[{"a": "1"}]', False, ("a",))


# -- form bodies ------------------------------------------------------------------------------------------


def test_form_body_is_one_object_of_strings():
    result = parse_payload(b"name=mango&qty=6&note=a+b%21", "application/x-www-form-urlencoded")
    assert result == Payload(b'{"name": "mango", "qty": "6", "note": "a b!"}', True, ("name", "qty", "note"))


def test_form_repeated_key_keeps_the_last_value_and_blank_values_are_kept():
    result = parse_payload(b"a=1&a=2&b=", "application/x-www-form-urlencoded")
    assert result == Payload(b'{"a": "2", "b": ""}', True, ("a", "b"))


def test_empty_form_body_is_an_empty_object():
    assert parse_payload(b"", "application/x-www-form-urlencoded") == Payload(b"{}", True, ())


def test_form_invalid_utf8_becomes_replacement_characters():
    result = parse_payload(b"a=%FF", "application/x-www-form-urlencoded")
    assert (json.loads(result.json), result.keys) == ({"a": "\ufffd"}, ("a",))


# -- read_body ----------------------------------------------------------------------------------------------


def test_read_body_with_a_length_reads_exactly_that_many_bytes():
    stream = Stream(b"0123456789")
    assert read_body(stream, 4, limit=100) == bytearray(b"0123")
    assert stream.reads == [4]


def test_read_body_with_a_length_collects_short_reads_and_asks_only_for_what_remains():
    stream = Stream(b"0123456789", step=3)
    assert read_body(stream, 10, limit=100, chunk=4) == bytearray(b"0123456789")
    assert stream.reads == [4, 4, 4, 1]


def test_read_body_stops_early_when_the_stream_ends_before_the_length():
    assert read_body(Stream(b"abc"), 10, limit=100) == bytearray(b"abc")


def test_read_body_of_length_zero_does_not_read():
    stream = Stream(b"abc")
    assert read_body(stream, 0, limit=100) == bytearray()
    assert stream.reads == []


def test_read_body_with_a_length_does_not_apply_the_limit():
    # request_body refuses a Content-Length over the limit before reading.
    assert read_body(Stream(b"0123456789"), 10, limit=4) == bytearray(b"0123456789")


def test_read_body_without_a_length_reads_to_the_end():
    stream = Stream(b"0123456789")
    assert read_body(stream, None, limit=100, chunk=4) == bytearray(b"0123456789")
    assert stream.reads == [4, 4, 4, 4]


def test_read_body_without_a_length_stops_one_byte_past_the_limit():
    stream = Stream(b"0123456789" * 10)
    body = read_body(stream, None, limit=5, chunk=4)
    assert body == bytearray(b"012345")
    assert stream.reads == [4, 2]


def test_read_body_without_a_length_returns_at_most_limit_plus_one_bytes():
    assert len(read_body(Stream(b"x" * 100), None, limit=10)) <= 11


# -- request_body -------------------------------------------------------------------------------------------


def test_request_body_within_the_limit_is_returned():
    assert request_body(Stream(b"0123456789"), 10, 10) == bytearray(b"0123456789")
    assert request_body(Stream(b"0123456789"), None, 10) == bytearray(b"0123456789")


def test_request_body_with_a_length_over_the_limit_is_413_before_reading():
    stream = Stream(b"x" * 100)
    assert answer(fails(request_body, stream, 100, 64)) == (
        413,
        "PGRST102",
        "Request body too large",
        "The request body has 100 bytes; server-max-body-size allows 64 bytes.",
        None,
    )
    assert stream.reads == []


def test_request_body_without_a_length_over_the_limit_is_413():
    assert answer(fails(request_body, Stream(b"x" * 100), None, 64)) == (
        413,
        "PGRST102",
        "Request body too large",
        "The request body is larger than that; server-max-body-size allows 64 bytes.",
        None,
    )
