"""GET and HEAD on tables and views through the WSGI app against a real PostgreSQL."""

from __future__ import annotations

import json

from werkzeug.test import Client

JSON = "application/json; charset=utf-8"


def get(client: Client, url: str, **headers: str):  # noqa: ANN201 - werkzeug TestResponse
    return client.get(url, headers=headers)


def test_select_columns_with_filter_builds_body_in_postgres(client: Client) -> None:
    r = client.get("/items?select=id,name&id=lt.3&order=id")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == JSON
    assert r.get_data(as_text=True) == '[{"id":1,"name":"item 1"}, \n {"id":2,"name":"item 2"}]'
    assert r.headers["Content-Range"] == "0-1/*"
    assert r.headers["Vary"] == "Accept, Prefer, Range"
    assert r.headers["Content-Location"] == "/items?id=lt.3&order=id&select=id%2Cname"
    assert r.headers["Content-Profile"] == "test"


def test_empty_result_is_empty_array(client: Client) -> None:
    r = client.get("/items?id=gt.1000")
    assert r.status_code == 200
    assert r.get_data(as_text=True) == "[]"
    assert r.headers["Content-Range"] == "*/*"


def test_alias_and_cast(client: Client) -> None:
    r = client.get("/items?select=ident:id,price::text&id=eq.2")
    assert r.get_json() == [{"ident": 2, "price": "3.00"}]


def test_json_path_select_with_default_key_names(client: Client) -> None:
    r = client.get("/items?select=id,data->nested->>k,data->list->0,label:data->>label&id=eq.4")
    assert r.get_json() == [{"id": 4, "k": "1", "list": 4, "label": "L4"}]


def test_json_path_filter(client: Client) -> None:
    r = client.get("/items?select=id&data->>label=eq.L7")
    assert r.get_json() == [{"id": 7}]
    r = client.get("/items?select=id&data->nested->k=eq.0&order=id")
    assert r.get_json() == [{"id": 3}, {"id": 6}, {"id": 9}, {"id": 12}, {"id": 15}]


def test_comparison_filters(client: Client) -> None:
    ids = lambda url: [row["id"] for row in client.get(url).get_json()]  # noqa: E731
    assert ids("/items?select=id&id=gte.14&order=id") == [14, 15]
    assert ids("/items?select=id&id=lte.2&order=id") == [1, 2]
    assert ids("/items?select=id&id=gt.13&order=id") == [14, 15]
    assert ids("/items?select=id&id=neq.1&id=lt.4&order=id") == [2, 3]
    assert ids("/items?select=id&id=eq.5") == [5]


def test_in_filter_with_quoted_values(client: Client) -> None:
    r = client.get('/items?select=id&name=in.("item 1","item 3",nope)&order=id')
    assert r.get_json() == [{"id": 1}, {"id": 3}]
    r = client.get("/items?select=id&id=in.()")
    assert r.get_json() == []


def test_is_filter(client: Client) -> None:
    r = client.get("/items?select=id&price=is.null&order=id")
    assert r.get_json() == [{"id": 5}, {"id": 10}, {"id": 15}]
    r = client.get("/items?select=id&price=not.is.null&id=lte.2&order=id")
    assert r.get_json() == [{"id": 1}, {"id": 2}]


def test_like_and_ilike_with_star_wildcards(client: Client) -> None:
    r = client.get("/items?select=id&name=like.*1*&order=id")
    assert r.get_json() == [{"id": 1}, {"id": 10}, {"id": 11}, {"id": 12}, {"id": 13}, {"id": 14}, {"id": 15}]
    r = client.get("/items?select=id&name=ilike.ITEM%202")
    assert r.get_json() == [{"id": 2}]


def test_not_negates_each_operator(client: Client) -> None:
    r = client.get("/items?select=id&id=not.gt.2&order=id")
    assert r.get_json() == [{"id": 1}, {"id": 2}]
    r = client.get("/items?select=id&id=not.in.(1,2,3,4,5,6,7,8,9,10,11,12,13)&order=id")
    assert r.get_json() == [{"id": 14}, {"id": 15}]


def test_array_contains_filter(client: Client) -> None:
    r = client.get("/items?select=id&tags=cs.{small,odd}&order=id")
    assert r.get_json() == [{"id": 1}, {"id": 3}]


def test_logic_or_tree(client: Client) -> None:
    r = client.get("/items?select=id&or=(id.eq.1,id.eq.15)&order=id")
    assert r.get_json() == [{"id": 1}, {"id": 15}]


def test_order_desc_nullsfirst(client: Client) -> None:
    r = client.get("/items?select=id,price&order=price.desc.nullsfirst,id&limit=4")
    assert r.get_json() == [
        {"id": 5, "price": None},
        {"id": 10, "price": None},
        {"id": 15, "price": None},
        {"id": 14, "price": 21.00},
    ]


def test_limit_offset_and_content_range(client: Client) -> None:
    r = client.get("/items?select=id&order=id&limit=2&offset=3")
    assert r.status_code == 200
    assert r.get_json() == [{"id": 4}, {"id": 5}]
    assert r.headers["Content-Range"] == "3-4/*"


def test_range_header(client: Client) -> None:
    r = client.get("/items?select=id&order=id", headers={"Range": "2-4"})
    assert r.status_code == 200
    assert r.get_json() == [{"id": 3}, {"id": 4}, {"id": 5}]
    assert r.headers["Content-Range"] == "2-4/*"


def test_range_header_with_exact_count_gives_206(client: Client) -> None:
    r = client.get("/items?select=id&order=id", headers={"Range": "0-1", "Prefer": "count=exact"})
    assert r.status_code == 206
    assert r.headers["Content-Range"] == "0-1/15"
    assert r.headers["Preference-Applied"] == "count=exact"


def test_offset_past_the_end_with_count_is_416(client: Client) -> None:
    r = client.get("/items?offset=100", headers={"Prefer": "count=exact"})
    assert r.status_code == 416
    assert r.headers["Content-Range"] == "*/15"
    assert r.get_json() == {
        "code": "PGRST103",
        "message": "Requested range not satisfiable",
        "details": "An offset of 100 was requested, but there are only 15 rows.",
        "hint": None,
    }


def test_inverted_range_is_416(client: Client) -> None:
    r = client.get("/items", headers={"Range": "5-2"})
    assert r.status_code == 416
    assert r.get_json()["details"] == (
        "The lower boundary must be lower than or equal to the upper boundary in the Range header."
    )


def test_db_max_rows_caps_the_page(make_client) -> None:  # noqa: ANN001
    client = make_client(db_max_rows=3)
    r = client.get("/items?select=id&order=id")
    assert r.get_json() == [{"id": 1}, {"id": 2}, {"id": 3}]
    assert r.headers["Content-Range"] == "0-2/*"
    r = client.get("/items?select=id&order=id&limit=2")
    assert r.get_json() == [{"id": 1}, {"id": 2}]


def test_head_has_headers_but_no_body(client: Client) -> None:
    r = client.head("/items?id=lt.3")
    assert r.status_code == 200
    assert r.get_data() == b""
    assert r.headers["Content-Type"] == JSON
    assert r.headers["Content-Range"] == "0-1/*"
    assert "Content-Length" not in r.headers


def test_view_is_readable(client: Client) -> None:
    r = client.get("/cheap_items?select=id&order=id")
    assert r.get_json() == [{"id": 1}, {"id": 2}, {"id": 3}, {"id": 4}, {"id": 6}]


def test_quoted_and_unusual_identifiers(client: Client) -> None:
    r = client.get('/Weird%20Names?select="some,col",üñí&"Id"=eq.1')
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json() == [{"some,col": "a,b", "üñí": "ü"}]


def test_singular_object(client: Client) -> None:
    r = client.get("/items?select=id,name&id=eq.1", headers={"Accept": "application/vnd.pgrst.object+json"})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/vnd.pgrst.object+json; charset=utf-8"
    assert r.get_data(as_text=True) == '{"id":1,"name":"item 1"}'


def test_singular_with_many_rows_is_406(client: Client) -> None:
    r = client.get("/items?id=lt.3", headers={"Accept": "application/vnd.pgrst.object+json"})
    assert r.status_code == 406
    assert r.get_json() == {
        "code": "PGRST116",
        "message": "Cannot coerce the result to a single JSON object",
        "details": "The result contains 2 rows",
        "hint": None,
    }


def test_unacceptable_media_type_is_406(client: Client) -> None:
    r = client.get("/items", headers={"Accept": "text/xml"})
    assert r.status_code == 406
    assert r.get_json() == {
        "code": "PGRST107",
        "message": "None of these media types are available: text/xml",
        "details": None,
        "hint": None,
    }


def test_profile_selects_schema(client: Client) -> None:
    r = client.get("/things", headers={"Accept-Profile": "other"})
    assert r.status_code == 200
    assert r.get_json() == [{"id": 1, "label": "other thing"}]
    assert r.headers["Content-Profile"] == "other"


def test_unknown_profile_is_406(client: Client) -> None:
    r = client.get("/things", headers={"Accept-Profile": "nope"})
    assert r.status_code == 406
    assert r.get_json() == {
        "code": "PGRST106",
        "message": "Invalid schema: nope",
        "details": None,
        "hint": "Only the following schemas are exposed: test, other",
    }


def test_options_lists_allowed_methods(client: Client) -> None:
    r = client.options("/items")
    assert r.status_code == 200
    assert r.headers["Allow"] == "OPTIONS,GET,HEAD,POST,PUT,PATCH,DELETE"
    # The view's primary key is inferred from its base table, so PUT is allowed too.
    r = client.options("/cheap_items")
    assert r.headers["Allow"] == "OPTIONS,GET,HEAD,POST,PUT,PATCH,DELETE"


def test_body_is_valid_json_for_every_row(client: Client) -> None:
    rows = json.loads(client.get("/items?order=id").get_data(as_text=True))
    assert len(rows) == 15
    assert rows[0] == {
        "id": 1,
        "name": "item 1",
        "price": 1.50,
        "tags": ["odd", "small"],
        "data": {"n": 1, "list": [1, 2], "label": "L1", "nested": {"k": 1}},
        "created": "2024-01-02",
    }


def test_computed_field_in_select_filter_and_order(client: Client) -> None:
    r = client.get("/items?select=id,label&label=like.*%231*&order=label.desc&limit=3")
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json() == [
        {"id": 15, "label": "item 15 #15"},
        {"id": 14, "label": "item 14 #14"},
        {"id": 13, "label": "item 13 #13"},
    ]


def test_domain_representation_formats_output_and_parses_filters(client: Client) -> None:
    r = client.get("/paints?order=id")
    assert r.get_json() == [
        {"id": 1, "name": "red", "color": "#FF0000"},
        {"id": 2, "name": "green", "color": "#00FF00"},
        {"id": 3, "name": "blue", "color": "#0000FF"},
    ]
    r = client.get("/paints?select=name&color=eq.%2300FF00")
    assert r.get_json() == [{"name": "green"}]
    r = client.get('/paints?select=name,color&color=in.("%230000FF","%23FF0000")&order=id')
    assert r.get_json() == [{"name": "red", "color": "#FF0000"}, {"name": "blue", "color": "#0000FF"}]


def test_counts_exact_planned_and_estimated(make_client) -> None:  # noqa: ANN001
    client = make_client(db_max_rows=5)
    r = client.get("/items?select=id", headers={"Prefer": "count=exact"})
    assert (r.status_code, r.headers["Content-Range"]) == (206, "0-4/15")
    r = client.get("/items?select=id", headers={"Prefer": "count=planned"})
    assert r.headers["Content-Range"].startswith("0-4/")
    assert r.headers["Content-Range"].split("/")[1].isdigit()
    assert r.headers["Preference-Applied"] == "count=planned"
    r = client.get("/items?select=id&id=lt.4", headers={"Prefer": "count=estimated"})
    assert (r.status_code, r.headers["Content-Range"]) == (200, "0-2/3")


def test_exact_count_without_paging_reuses_page_count(client: Client) -> None:
    r = client.get("/items?select=id&id=lt.4", headers={"Prefer": "count=exact"})
    assert (r.status_code, r.headers["Content-Range"]) == (200, "0-2/3")


def test_strict_handling_rejects_unknown_preferences(client: Client) -> None:
    r = client.get("/items", headers={"Prefer": "handling=strict, count=exact, foo=bar, return=nothing"})
    assert r.status_code == 400
    assert r.get_json() == {
        "code": "PGRST122",
        "message": "Invalid preferences given with handling=strict",
        "details": "Invalid preferences: foo=bar, return=nothing",
        "hint": None,
    }
    r = client.get("/items?id=eq.1", headers={"Prefer": "handling=lenient, foo=bar, count=exact, timezone=UTC"})
    assert r.status_code == 200
    assert r.headers["Preference-Applied"] == "count=exact, handling=lenient, timezone=UTC"


def test_limit_zero_and_unsatisfiable_limits(client: Client) -> None:
    r = client.get("/items?limit=0")
    assert (r.status_code, r.get_data(as_text=True), r.headers["Content-Range"]) == (200, "[]", "*/*")
    r = client.get("/items?limit=0&offset=5")
    assert r.status_code == 416
    assert r.get_json()["details"] == "Limit should be greater than or equal to zero."


def test_csv_output(client: Client) -> None:
    r = client.get("/Weird%20Names?order=%22Id%22", headers={"Accept": "text/csv"})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    # PostgreSQL's record quoting: commas, quotes and parentheses put a field in quotes.
    assert r.get_data(as_text=True) == 'Id,some,col,quote"d,üñí\n1,"a,b","q""1",ü\n2,"(x)",two,ñ'


def test_hundred_filters_and_ten_thousand_element_in_list(client: Client) -> None:
    filters = "&".join(f"id=neq.{1000 + i}" for i in range(100))
    in_list = ",".join(str(i) for i in range(1, 10001))
    r = client.get(f"/items?select=id&{filters}&id=in.({in_list})&order=id&limit=3")
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    assert r.get_json() == [{"id": 1}, {"id": 2}, {"id": 3}]
