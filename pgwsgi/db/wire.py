"""A request's statements sent to PostgreSQL in one round trip (libpq pipeline mode).

psycopg's cursor makes a round trip per statement, and its own pipeline mode
spends more Python per statement than the round trips it saves on loopback
(docs/performance.md). This module drives libpq's pipeline directly through
psycopg's `pq` layer: every statement is queued (Parse once per connection,
then Bind/Execute), one Sync ends the batch, and the results are read back in
order. Values are dumped by psycopg's own adapters, so they travel exactly as
`cursor.execute` would send them; nothing is spliced into SQL text.

A failed statement makes PostgreSQL skip the rest of the batch up to the Sync;
the first error is raised as psycopg's exception for its SQLSTATE, and the
caller rolls the open transaction back.
"""

from __future__ import annotations

import functools
import re
import select
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import errors, pq
from psycopg.abc import Buffer
from psycopg.adapt import PyFormat, Transformer

_OK = (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK, pq.ExecStatus.EMPTY_QUERY)
_PIPELINE_SYNC = pq.ExecStatus.PIPELINE_SYNC
_PIPELINE_ABORTED = pq.ExecStatus.PIPELINE_ABORTED
_FATAL = pq.ExecStatus.FATAL_ERROR
_PLACEHOLDER = re.compile(rb"%(%|s)")

# Named statements kept per connection; the least recently used is deallocated beyond this.
PREPARED_MAX = 256
# libpq 17 sends the protocol's Close for an evicted statement, which PgBouncer >= 1.21 follows
# (max_prepared_statements); an SQL DEALLOCATE it does not, so the statement would stay behind it.
CLOSE_MESSAGE = pq.version() >= 170000


@dataclass(frozen=True, slots=True)
class Step:
    """One statement of a batch: its text with `%s` placeholders, and its parameters (None: none)."""

    query: bytes
    params: Sequence[Any] | None = None


@functools.lru_cache(maxsize=2048)
def postgres_text(query: bytes) -> tuple[bytes, int]:
    """QUERY with psycopg's `%s` placeholders numbered `$1, $2, ...` and `%%` unescaped; and their count."""
    count = 0

    def number(match: re.Match[bytes]) -> bytes:
        nonlocal count
        if match.group(1) == b"%":
            return b"%"
        count += 1
        return b"$%d" % count

    return _PLACEHOLDER.sub(number, query), count


_IGNORE, _PARSE, _RESULT = 0, 1, 2
_Key = tuple[bytes, tuple[int, ...]]
# What a result read back belongs to: (what it is, the prepared statement's key and name for a Parse).
_Expect = tuple[int, _Key | None, bytes]
# A statement ready to queue: its text, dumped values, their types and formats.
_Dumped = tuple[bytes, Sequence[Buffer | None] | None, tuple[int, ...], Sequence[pq.Format] | None]


class Wire:
    """The pipeline of one pooled connection: its prepared statements and its parameter dumper."""

    __slots__ = ("pgconn", "prepare", "_names", "_counter", "_tx", "_encoding", "_evicted")

    def __init__(self, conn: psycopg.Connection[Any], prepare: bool) -> None:
        self.pgconn = conn.pgconn
        self.prepare = prepare
        # (statement text, parameter types) -> statement name, least recently used first.
        self._names: OrderedDict[_Key, bytes] = OrderedDict()
        self._counter = 0
        self._tx = Transformer(conn)
        self._encoding = conn.info.encoding
        self._evicted: list[bytes] = []

    def run(self, steps: Sequence[Step]) -> list[pq.abc.PGresult]:
        """Send STEPS in one round trip and return each one's result, in order.

        Raises psycopg's exception for the first statement PostgreSQL refused;
        the statements after it did not run.
        """
        # Every value is dumped before anything is queued: psycopg refuses some (a NUL
        # in text) and the connection must not be left half-way through a pipeline.
        dumped = [self._dump(step) for step in steps]
        pgconn = self.pgconn
        pgconn.enter_pipeline_mode()
        try:
            expect: list[_Expect] = []
            syncs = 1
            if self._evicted:
                for name in self._evicted:
                    if CLOSE_MESSAGE:
                        pgconn.send_close_prepared(name)
                    else:
                        pgconn.send_query_params(b"DEALLOCATE " + name, None)
                    expect.append((_IGNORE, None, b""))
                self._evicted.clear()
                # Their own Sync: in the statements' implicit transaction they would
                # come before BEGIN, which must be the first (SET TRANSACTION ISOLATION).
                pgconn.pipeline_sync()
                syncs += 1
            for text, values, types, formats in dumped:
                self._send(text, values, types, formats, expect)
            pgconn.pipeline_sync()
            self._flush()
            return self._read(expect, syncs)
        finally:
            if pgconn.status == pq.ConnStatus.OK and pgconn.pipeline_status != pq.PipelineStatus.OFF:
                pgconn.exit_pipeline_mode()

    def _dump(self, step: Step) -> _Dumped:
        text, count = postgres_text(step.query)
        if step.params is None or not count:
            return text, None, (), None
        tx = self._tx
        values = tx.dump_sequence(step.params, [PyFormat.AUTO] * len(step.params))
        return text, values, tx.types or (), tx.formats

    def _send(
        self,
        text: bytes,
        values: Sequence[Buffer | None] | None,
        types: tuple[int, ...],
        formats: Sequence[pq.Format] | None,
        expect: list[_Expect],
    ) -> None:
        pgconn = self.pgconn
        if not self.prepare:
            pgconn.send_query_params(text, values, types or None, formats)
            expect.append((_RESULT, None, b""))
            return
        key = (text, types)
        name = self._names.get(key)
        if name is None:
            self._counter += 1
            name = b"_pgwsgi_%d" % self._counter
            pgconn.send_prepare(name, text, types or None)
            expect.append((_PARSE, key, name))
            # Known from now on, so a repeat in the same batch reuses it; forgotten if the Parse fails.
            self._names[key] = name
            while len(self._names) > PREPARED_MAX:
                self._evicted.append(self._names.popitem(last=False)[1])
        else:
            self._names.move_to_end(key)
        pgconn.send_query_prepared(name, values, formats)
        expect.append((_RESULT, None, b""))

    def _flush(self) -> None:
        pgconn = self.pgconn
        while pgconn.flush() != 0:
            select.select([], [pgconn.socket], [])

    def _read(self, expect: list[_Expect], syncs: int) -> list[pq.abc.PGresult]:
        pgconn = self.pgconn
        results: list[pq.abc.PGresult] = []
        error: psycopg.Error | None = None
        index = 0
        while syncs:
            while pgconn.is_busy():
                select.select([pgconn.socket], [], [])
                pgconn.consume_input()
            res = pgconn.get_result()
            if res is None:
                continue
            status = res.status
            if status == _PIPELINE_SYNC:
                syncs -= 1
                continue
            kind, key, name = expect[index]
            index += 1
            if status in _OK:
                if kind == _RESULT:
                    results.append(res)
                continue
            if kind == _IGNORE:
                continue  # a DEALLOCATE that failed: the statement is gone either way
            if kind == _PARSE and key is not None and self._names.get(key) == name:
                del self._names[key]
            if status == _FATAL:
                error = error or errors.error_from_result(res, encoding=self._encoding)
            elif status != _PIPELINE_ABORTED:
                error = error or psycopg.OperationalError(f"unexpected result status {pq.ExecStatus(status).name}")
        if error is not None:
            raise error
        return results

    def load_row(self, res: pq.abc.PGresult) -> dict[str, Any]:
        """The first row of RES by column name, loaded by psycopg's adapters ({} when it has none)."""
        if res.ntuples == 0:
            return {}
        tx = self._tx
        tx.set_pgresult(res)
        values = tx.load_row(0, tuple)
        names = [(res.fname(i) or b"").decode() for i in range(res.nfields)]
        return dict(zip(names, values, strict=True))
