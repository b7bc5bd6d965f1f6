"""`python -m pgwsgi` and the `pgwsgi` console script: see pgwsgi.cli."""

from pgwsgi.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
