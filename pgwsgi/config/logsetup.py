"""log-level -> Python logging for the `pgwsgi` loggers, in PostgREST's stderr format."""

from __future__ import annotations

import logging
import sys
import time

from pgwsgi.config import Config

LEVELS = {
    "crit": logging.CRITICAL,
    "error": logging.ERROR,
    "warn": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
}


def announce(message: str) -> None:
    """A start-up line, written whatever log-level says, as PostgREST writes its own (stderr, its time prefix)."""
    stamp = time.strftime("%d/%b/%Y:%H:%M:%S %z")
    sys.stderr.write(f"{stamp}: {message}\n")
    sys.stderr.flush()


def configure_logging(config: Config) -> None:
    """Send pgwsgi's log records at or above log-level to stderr, unless the host app configured logging."""
    logger = logging.getLogger("pgwsgi")
    logger.setLevel(LEVELS.get(config.log_level, logging.ERROR))
    # psycopg's pool logs each failed connection attempt too; pgwsgi says it once, its own way.
    logging.getLogger("psycopg.pool").setLevel(logging.CRITICAL)
    if logger.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler()
    # PostgREST prefixes stderr lines with `dd/Mon/YYYY:HH:MM:SS ±zzzz: `.
    handler.setFormatter(logging.Formatter("%(asctime)s: %(message)s", "%d/%b/%Y:%H:%M:%S %z"))
    logger.addHandler(handler)
    logger.propagate = False
