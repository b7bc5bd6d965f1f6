"""The api stage: an HTTP request -> one `ApiRequest` saying what it is and everything it asks for.

Pure parsing against no catalog: the query-string grammar (querystring, grammar,
grammar_fields, parsing), Prefer (prefer), Accept (media), Range (ranges) and
request bodies (payload). `parse` is the entry; `model` is the contract.
"""

from pgwsgi.api.model import Action, ApiRequest
from pgwsgi.api.request import KeyScanner, parse

__all__ = ["Action", "ApiRequest", "KeyScanner", "parse"]
