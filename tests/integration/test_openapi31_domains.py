"""A domain answered through a cast function (M-DOMAIN-REP) is any JSON in the 3.1 document."""

from __future__ import annotations

from werkzeug.test import Client

V31 = {"Accept": "application/vnd.oai.openapi+json;version=3.1"}


def test_a_represented_domain_is_described_as_any_json(client: Client) -> None:
    doc = client.get("/", headers=V31).get_json()
    paints = next(v for k, v in doc["components"]["schemas"].items() if k == "paints")
    # test.paints.color is test.color, an integer domain whose JSON is "#RRGGBB" (test.color_to_json).
    assert paints["properties"]["color"] == {}
    assert client.get("/paints?select=color&id=eq.1").get_json() == [{"color": "#FF0000"}]
