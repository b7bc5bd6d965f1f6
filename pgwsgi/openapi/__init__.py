"""The OpenAPI documents served at the root: PostgREST's Swagger 2.0 and OpenAPI 3.1.

`model.ApiDescription` is what a document is built from (the objects of one
schema the request may see, and where clients reach the API); `swagger` and
`openapi31` turn it into a JSON-ready dict. Nothing here does I/O.
"""

from pgwsgi.openapi import openapi31, swagger
from pgwsgi.openapi.model import ApiDescription, Server, server_of

__all__ = ["ApiDescription", "Server", "openapi31", "server_of", "swagger"]
