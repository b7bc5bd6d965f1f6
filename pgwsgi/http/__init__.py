"""The HTTP layer: the WSGI application (`App.handle` is the request pipeline), routing, CORS, Server-Timing."""
