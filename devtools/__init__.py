"""Development tools that are not part of the installed package: the private PostgreSQL server and the demo."""
