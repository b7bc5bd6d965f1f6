"""response/mutate.py: POST, PATCH, PUT and DELETE: status, Location, Content-Range, Preference-Applied, the body."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.wrappers import Response

from pgwsgi.config import Config
from pgwsgi.plan.model import MutatePlan
from pgwsgi.response.mutate import render_mutation
from tests.unit.snapshot import CONFIG, planned, sent_headers

JSON = "application/json; charset=utf-8"


def row(page_total: int = 1, body: str | None = None, **kw: Any) -> dict[str, Any]:
    base = {
        "total": None,
        "page_total": page_total,
        "location": None,
        "body": body,
        "response_headers": None,
        "response_status": None,
        "inserted": None,
    }
    base.update(kw)
    return base


def answer(
    url: str,
    result: dict[str, Any],
    method: str = "POST",
    body: str | None = "{}",
    config: Config = CONFIG,
    **headers: str,
) -> Response:
    req, plan = planned(url, method, body=body, headers=headers, config=config)
    assert isinstance(plan.action, MutatePlan)
    return render_mutation(req, plan.action, result)


def test_a_post_is_201_with_an_unknown_range_and_no_body() -> None:
    resp = answer("/items", row(1))
    assert resp.status_code == 201
    assert sent_headers(resp) == [("Content-Length", "0"), ("Content-Range", "*/*")]
    assert resp.get_data() == b""


def test_a_post_with_representation_answers_the_rows() -> None:
    resp = answer("/items", row(2, '[{"id":1},{"id":2}]'), Prefer="return=representation")
    assert resp.status_code == 201
    assert sent_headers(resp) == [
        ("Content-Type", JSON),
        ("Content-Length", "19"),
        ("Content-Range", "*/*"),
        ("Preference-Applied", "return=representation"),
    ]
    assert resp.get_data() == b'[{"id":1},{"id":2}]'


def test_a_post_with_a_count_gives_the_total_rows_written() -> None:
    resp = answer("/items", row(2, "[]"), Prefer="return=representation, count=exact")
    assert resp.headers["Content-Range"] == "*/2"
    assert resp.headers["Preference-Applied"] == "return=representation, count=exact"


def test_headers_only_sends_the_location_of_the_new_row() -> None:
    resp = answer("/items", row(1, location='{"id": "4"}'), Prefer="return=headers-only")
    assert resp.status_code == 201
    assert resp.headers["Location"] == "/items?id=eq.4"
    assert resp.headers["Preference-Applied"] == "return=headers-only"


def test_the_location_quotes_values_and_writes_null_as_is_null() -> None:
    resp = answer("/pairs", row(1, location='{"k1": "8", "k2": "a b&c"}'), Prefer="return=headers-only")
    assert resp.headers["Location"] == "/pairs?k1=eq.8&k2=eq.a%20b%26c"
    resp = answer("/pairs", row(1, location='{"k1": "7", "k2": null}'), Prefer="return=headers-only")
    assert resp.headers["Location"] == "/pairs?k1=eq.7&k2=is.null"


def test_no_location_when_the_statement_gave_none() -> None:
    assert "Location" not in answer("/items", row(2), Prefer="return=headers-only").headers


def test_merge_duplicates_is_200_when_every_row_was_an_update() -> None:
    resp = answer("/items", row(2, inserted=-2), Prefer="resolution=merge-duplicates")
    assert resp.status_code == 200
    assert resp.headers["Preference-Applied"] == "resolution=merge-duplicates"
    assert answer("/items", row(0, inserted=None), Prefer="resolution=merge-duplicates").status_code == 200


def test_merge_duplicates_is_201_when_a_row_was_inserted() -> None:
    resp = answer(
        "/items", row(2, "[]", inserted=1), Prefer="resolution=merge-duplicates, missing=default, return=representation"
    )
    assert resp.status_code == 201
    assert resp.headers["Preference-Applied"] == "resolution=merge-duplicates, missing=default, return=representation"


def test_ignore_duplicates_is_201() -> None:
    resp = answer("/items", row(0), Prefer="resolution=ignore-duplicates")
    assert (resp.status_code, resp.headers["Preference-Applied"]) == (201, "resolution=ignore-duplicates")


def test_resolution_without_a_conflict_target_is_not_applied() -> None:
    resp = answer(
        "/logs", row(1, "[]"), body='{"msg": "x"}', Prefer="resolution=merge-duplicates, return=representation"
    )
    assert resp.headers["Preference-Applied"] == "return=representation"


def test_a_patch_is_204_with_the_range_of_the_rows_changed() -> None:
    resp = answer("/items?id=gt.1", row(2), "PATCH", '{"name": "b"}')
    assert resp.status_code == 204
    assert sent_headers(resp) == [("Content-Range", "0-1/*")]


def test_a_patch_matching_nothing_has_an_empty_range() -> None:
    assert answer("/items?id=gt.100", row(0), "PATCH", '{"name": "b"}').headers["Content-Range"] == "*/*"


def test_a_patch_with_a_count_and_representation_is_200() -> None:
    resp = answer("/items", row(3, "[]"), "PATCH", '{"name": "b"}', Prefer="return=representation, count=exact")
    assert (resp.status_code, resp.headers["Content-Range"]) == (200, "0-2/3")
    assert resp.headers["Content-Type"] == JSON


def test_headers_only_on_a_patch_behaves_like_minimal() -> None:
    resp = answer("/items?id=eq.1", row(1), "PATCH", '{"name": "b"}', Prefer="return=headers-only")
    assert resp.status_code == 204
    assert resp.headers["Preference-Applied"] == "return=headers-only"
    assert "Location" not in resp.headers


def test_max_affected_is_applied_to_patch_and_delete_with_strict_handling() -> None:
    strict = "handling=strict, max-affected=2"
    assert (
        answer("/items?id=gt.1", row(2), "PATCH", '{"name": "b"}', Prefer=strict).headers["Preference-Applied"]
        == "handling=strict, max-affected=2"
    )
    assert answer("/items?id=gt.1", row(2), "DELETE", None, Prefer=strict).headers["Preference-Applied"] == strict
    assert answer("/items", row(1), Prefer=strict).headers["Preference-Applied"] == "handling=strict"


def test_a_delete_is_204_with_an_unknown_range() -> None:
    resp = answer("/items?id=eq.1", row(1), "DELETE", None)
    assert resp.status_code == 204
    assert sent_headers(resp) == [("Content-Range", "*/*")]


def test_a_delete_with_representation_and_count() -> None:
    resp = answer("/items?id=lt.3", row(2, "[]"), "DELETE", None, Prefer="return=representation, count=exact")
    assert (resp.status_code, resp.headers["Content-Range"]) == (200, "*/2")
    assert resp.headers["Preference-Applied"] == "return=representation, count=exact"


def test_a_put_is_204_without_content_range() -> None:
    resp = answer("/items?id=eq.1", row(1, inserted=1), "PUT", '{"id": 1, "name": "b"}')
    assert resp.status_code == 204
    assert sent_headers(resp) == []


@pytest.mark.parametrize(("inserted", "status"), [(1, 201), (-1, 200), (None, 200)])
def test_a_put_with_representation_is_201_when_inserted_200_when_updated(inserted: int | None, status: int) -> None:
    resp = answer(
        "/items?id=eq.1",
        row(1, "[]", inserted=inserted),
        "PUT",
        '{"id": 1, "name": "b"}',
        Prefer="return=representation",
    )
    assert resp.status_code == status
    assert "Content-Range" not in resp.headers
    assert resp.headers["Preference-Applied"] == "return=representation"


def test_content_profile_is_sent_with_a_representation_when_negotiated() -> None:
    config = Config(db_schemas=("api", "other"))
    with_body = answer("/items", row(1, "[]"), config=config, Prefer="return=representation")
    assert with_body.headers["Content-Profile"] == "api"
    assert "Content-Profile" not in answer("/items", row(1), config=config).headers


def test_the_representation_has_the_negotiated_content_type() -> None:
    resp = answer("/items", row(1, "id\n1"), Prefer="return=representation", Accept="text/csv")
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_tx_preference_is_reported_when_allowed() -> None:
    config = Config(db_schemas=("api",), db_tx_end="commit-allow-override")
    resp = answer("/items", row(1, "[]"), config=config, Prefer="return=representation, tx=rollback")
    assert resp.headers["Preference-Applied"] == "return=representation, tx=rollback"


def test_the_response_gucs_apply_to_writes() -> None:
    resp = answer("/items", row(1, response_headers='[{"Location": "/elsewhere"}]', response_status="200"))
    assert resp.status == "200 OK"
    assert resp.headers["Location"] == "/elsewhere"
