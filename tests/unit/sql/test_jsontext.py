"""sql/jsontext.py: a request body bound as a `json` parameter without parsing or copying it."""

from __future__ import annotations

from psycopg import adapters
from psycopg.adapt import PyFormat
from psycopg.pq import Format

from pgwsgi.sql.jsontext import JsonText, JsonTextDumper


def test_json_text_wraps_the_buffer_without_copying_it() -> None:
    body = bytearray(b'{"a": 1}')
    assert JsonText(body).data is body


def test_json_text_holds_nothing_else() -> None:
    assert JsonText.__slots__ == ("data",)
    assert not hasattr(JsonText(b"{}"), "__dict__")


def test_the_dumper_sends_the_buffer_itself_as_json_text() -> None:
    body = bytearray(b"[1, 2]")
    dumper = JsonTextDumper(JsonText)
    assert dumper.dump(JsonText(body)) is body
    assert dumper.oid == adapters.types["json"].oid
    assert dumper.format == Format.TEXT


def test_the_dumper_is_registered_globally() -> None:
    dumper = adapters.get_dumper(JsonText, PyFormat.AUTO)
    assert dumper is JsonTextDumper
