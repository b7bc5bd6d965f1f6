"""`JsonText`: a request body bound as a `json` parameter as it is, never parsed or copied in Python."""

from __future__ import annotations

from psycopg import adapters
from psycopg.adapt import Dumper
from psycopg.pq import Format


class JsonText:
    """JSON text bound as it is: no parse in Python, no re-encoding, no copy.

    A wrapper rather than a bytes subclass, because constructing a subclass would
    copy a body that may be tens of megabytes.
    """

    __slots__ = ("data",)

    def __init__(self, data: bytes | bytearray) -> None:
        self.data = data


class JsonTextDumper(Dumper):
    """Send JsonText as a `json` parameter."""

    oid = adapters.types["json"].oid
    format = Format.TEXT

    def dump(self, obj: JsonText) -> bytes | bytearray:
        """The body's own buffer."""
        return obj.data


adapters.register_dumper(JsonText, JsonTextDumper)
