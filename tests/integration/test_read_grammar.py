"""The read grammar over HTTP, asserted as PostgREST v16 answers.

Covers inventory §3 (URL grammar), §4.3 (Prefer), §4.4 (statuses and headers of reads) and §7
(media types), ids cited in test docstrings. The data is tests/fixtures/grammar.sql (tables
test.g_*). Expected values come from PostgREST's source and its test suite
(test/spec/Feature/Query/*.hs), not from pgwsgi's current answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from werkzeug.test import Client, TestResponse

from tests.conftest import rows

JSON = "application/json; charset=utf-8"
CSV = "text/csv; charset=utf-8"
ALL_PEOPLE = list(range(1, 21))


def get(client: Client, url: str, **headers: str) -> TestResponse:
    return client.get(url, headers=headers)


def ids(client: Client, url: str, headers: dict[str, str] | None = None) -> list[int]:
    """The ids of the rows of a GET that must succeed with 200."""
    return [row["id"] for row in rows(client, url, headers)]


def error(r: TestResponse, status: int, code: str) -> dict[str, Any]:
    """The error body of R, after checking its status, code and content type."""
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.headers["Content-Type"] == JSON
    body = r.get_json()
    assert body["code"] == code, body
    return body


def range_error(details: str) -> dict[str, Any]:
    return {"code": "PGRST103", "message": "Requested range not satisfiable", "details": details, "hint": None}


NEGATIVE_LIMIT = range_error("Limit should be greater than or equal to zero.")


# --- §3.1 paths and query-string basics ---------------------------------------------------------


def test_path_with_percent_encoded_spaces(client: Client) -> None:
    """Q-PATH: segments are percent-decoded; Content-Location carries the decoded name as is."""
    r = client.get("/g%20space%20table?select=id&order=id")
    assert r.status_code == 200
    assert r.get_json() == [{"id": 1}, {"id": 2}]
    assert r.headers["Content-Location"] == "/g space table?order=id&select=id"


def test_path_with_percent_encoded_unicode(client: Client) -> None:
    """Q-PATH: unicode table names; the header holds the name's UTF-8 bytes (latin-1 in WSGI)."""
    r = client.get("/g_%C3%BCn%C3%AF?select=id,val&order=id")
    assert r.status_code == 200
    assert r.get_json() == [{"id": 1, "val": "x"}, {"id": 2, "val": "y"}]
    location = r.headers["Content-Location"].encode("latin-1").decode("utf-8")
    assert location == "/g_ünï?order=id&select=id%2Cval"


def test_plus_in_query_is_a_space_and_encoded_plus_is_a_plus(client: Client) -> None:
    """Q-DECODE."""
    assert ids(client, "/g_things?select=id&name=eq.a+b") == [5]
    assert ids(client, "/g_things?select=id&name=eq.a%20b") == [5]
    assert ids(client, "/g_things?select=id&name=eq.a%2Bb") == [6]


def test_key_without_equals_sign_is_ignored(client: Client) -> None:
    """Q-KEY-NO-VALUE: `first_name` alone is no filter, but the canonical query keeps it as `first_name=`."""
    r = client.get("/g_people?select=id&order=id&limit=2&first_name")
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json() == [{"id": 1}, {"id": 2}]
    assert r.headers["Content-Location"] == "/g_people?first_name=&limit=2&order=id&select=id"


def test_key_with_empty_value_is_kept_as_a_filter(client: Client) -> None:
    """Q-KEY-NO-VALUE: `first_name=` is a filter with no operator ⇒ PGRST100."""
    body = error(client.get("/g_people?select=id&first_name="), 400, "PGRST100")
    assert body["message"].startswith('"failed to parse filter ()" (line 1, column 1)')


def test_empty_select_means_all_columns(client: Client) -> None:
    """Q-SELECT-DEFAULT."""
    assert rows(client, "/g_nopk?select=") == [{"a": 1, "b": "one"}]


def test_quoted_field_names_with_commas_dots_and_quotes(client: Client) -> None:
    """Q-FIELD-NAME: double-quoted names allow anything; backslash escapes the next char."""
    url = r'/g%20space%20table?select="a,b","a.b","q\"uote"&"a.b"=eq.dot'
    assert rows(client, url) == [{"a,b": "comma", "a.b": "dot", 'q"uote': "quote"}]
    url = r'/g%20space%20table?select=id&"a,b"=eq.comma2&"q\"uote"=like.quote*'
    assert ids(client, url) == [2]


def test_unquoted_field_names_with_space_dash_dollar_and_unicode(client: Client) -> None:
    """Q-FIELD-NAME: letters (unicode too), digits, `_`, `$`, space and `-` need no quotes."""
    url = "/g%20space%20table?select=first name,dash-col,$dollar$,%C3%BCn%C3%AFcode&dash-col=gt.10"
    assert rows(client, url) == [{"first name": "two", "dash-col": 20, "$dollar$": "d2", "ünïcode": "ü2"}]
    assert ids(client, "/g%20space%20table?select=id&first%20name=eq.one") == [1]
    assert ids(client, "/g%20space%20table?select=id&%C3%BCn%C3%AFcode=eq.%C3%BC2") == [2]
    assert ids(client, "/g%20space%20table?select=id&$dollar$=eq.d1") == [1]


def test_spaces_around_select_items_are_trimmed(client: Client) -> None:
    """Q-FIELD-NAME / Q-SELECT-COL: surrounding spaces are not part of the name."""
    assert rows(client, "/g_people?select=%20id%20,%20first_name%20&id=eq.1") == [{"id": 1, "first_name": "Ann"}]


def test_content_location_sorts_params_and_reencodes_values(client: Client) -> None:
    """Q-CANONICAL / H-CONTENT-LOCATION: sorted by key, values url-encoded (only A-Za-z0-9-_.~ kept)."""
    r = client.get("/g_people?select=id,first_name&id=lt.3")
    assert r.headers["Content-Location"] == "/g_people?id=lt.3&select=id%2Cfirst_name"
    r = client.get('/g_people?select=id&last_name=in.(Smith,"Jo nes")&order=id.desc&limit=1')
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.headers["Content-Location"] == (
        "/g_people?last_name=in.%28Smith%2C%22Jo%20nes%22%29&limit=1&order=id.desc&select=id"
    )
    r = client.get("/g_people?select=*&first_name=like.A*")
    assert r.headers["Content-Location"] == "/g_people?first_name=like.A%2A&select=%2A"


def test_content_location_reencodes_a_decoded_plus_as_space(client: Client) -> None:
    """Q-CANONICAL: `+` was decoded to a space, so it comes back as %20."""
    r = client.get("/g_things?select=id&name=eq.a+b")
    assert r.headers["Content-Location"] == "/g_things?name=eq.a%20b&select=id"


def test_content_location_without_params_has_no_question_mark(client: Client) -> None:
    """Q-CANONICAL (QuerySpec "Omits question mark when there are no params")."""
    r = client.get("/g_nopk")
    assert r.headers["Content-Location"] == "/g_nopk"


def test_content_location_joins_repeated_keys_with_commas(client: Client) -> None:
    """Q-CANONICAL: Network.HTTP.Base.urlEncodeVars writes `k=v1,v2` for a repeated key (in request order)."""
    r = client.get("/g_people?select=id&id=lt.4&id=gt.1&order=id")
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json() == [{"id": 2}, {"id": 3}]
    assert r.headers["Content-Location"] == "/g_people?id=lt.4,gt.1&order=id&select=id"


# --- §3.2 filters ------------------------------------------------------------------------------


def test_comparison_operators(client: Client) -> None:
    """Q-FILTER-EQ … Q-FILTER-LTE."""
    assert ids(client, "/g_people?select=id&id=eq.3") == [3]
    assert ids(client, "/g_people?select=id&last_name=neq.Smith&id=lte.4&order=id") == [1, 2, 4]
    assert ids(client, "/g_people?select=id&id=gt.18&order=id") == [19, 20]
    assert ids(client, "/g_people?select=id&id=gte.19&order=id") == [19, 20]
    assert ids(client, "/g_people?select=id&age=lt.23&order=id") == [1, 2]
    assert ids(client, "/g_people?select=id&score=lte.2.5&order=id") == [1, 2]


def test_top_level_filter_value_is_the_whole_remainder_without_unquoting(client: Client) -> None:
    """§3.2: after `op.` the value is taken verbatim, `,` `.` `(` and `"` included."""
    assert ids(client, "/g_things?select=id&name=eq.Hebdon, John") == [1]
    assert ids(client, "/g_things?select=id&name=eq.it's (x,y)") == [7]
    assert ids(client, '/g_things?select=id&name=eq."Hebdon, John"') == []
    assert ids(client, '/g_things?select=id&name=eq.Double"Quote"McGraw"') == [3]


def test_like_and_ilike_turn_stars_into_percent(client: Client) -> None:
    """Q-FILTER-LIKE / Q-FILTER-ILIKE."""
    assert ids(client, "/g_people?select=id&first_name=like.*a*&order=id") == [4, 6, 8, 13, 15, 16, 18]
    assert ids(client, "/g_people?select=id&first_name=like.A*") == [1]
    assert ids(client, "/g_people?select=id&first_name=like.a*") == []
    assert ids(client, "/g_people?select=id&first_name=ilike.a*") == [1]
    assert ids(client, "/g_people?select=id&first_name=ilike.*M&order=id") == [11, 16, 20]


def test_match_and_imatch_use_posix_regexes(client: Client) -> None:
    """Q-FILTER-MATCH / Q-FILTER-IMATCH."""
    assert ids(client, "/g_people?select=id&first_name=match.^[A-C]&order=id") == [1, 2, 3]
    assert ids(client, "/g_people?select=id&first_name=match.^e") == []
    assert ids(client, "/g_people?select=id&first_name=imatch.^e") == [5]
    assert ids(client, "/g_people?select=id&first_name=imatch.Y$&order=id") == [6, 9, 18]


def test_in_filter_with_quoted_commas_and_parentheses(client: Client) -> None:
    """Q-FILTER-IN: double-quoted elements may contain `,` and `(`/`)`."""
    url = '/g_things?select=id&name=in.("Hebdon, John","Double O Seven(007)")&order=id'
    assert ids(client, url) == [1, 2]


def test_in_filter_with_escaped_quotes_and_backslashes(client: Client) -> None:
    """Q-FILTER-IN: `\\"` and `\\\\` inside quotes; unquoted elements are taken verbatim."""
    assert ids(client, r'/g_things?select=id&name=in.("Double\"Quote\"McGraw\"")') == [3]
    assert ids(client, r'/g_things?select=id&name=in.("back\\slash")') == [4]
    assert ids(client, r'/g_things?select=id&name=in.(Double"Quote"McGraw")') == [3]
    assert ids(client, r"/g_things?select=id&name=in.(back\slash)") == [4]


def test_in_filter_mixes_quoted_and_unquoted_elements(client: Client) -> None:
    """Q-FILTER-IN."""
    assert ids(client, '/g_things?select=id&name=in.(a b,"Hebdon, John")&order=id') == [1, 5]


def test_in_filter_with_an_empty_list_matches_nothing(client: Client) -> None:
    """Q-FILTER-IN: `in.()` ⇒ `= ANY('{}')`; spaces inside are ignored; `not.in.()` matches all."""
    assert ids(client, "/g_things?select=id&id=in.()") == []
    assert ids(client, "/g_things?select=id&id=in.(%20%20%20)") == []
    assert ids(client, "/g_things?select=id&id=not.in.()&order=id") == [1, 2, 3, 4, 5, 6, 7]


def test_is_null_not_null_true_false_unknown(client: Client) -> None:
    """Q-FILTER-IS."""
    assert ids(client, "/g_people?select=id&active=is.true&order=id") == [1, 3, 7, 9, 11, 13, 17, 19]
    assert ids(client, "/g_people?select=id&active=is.false&order=id") == [2, 4, 6, 8, 12, 14, 16, 18]
    assert ids(client, "/g_people?select=id&active=is.null&order=id") == [5, 10, 15, 20]
    assert ids(client, "/g_people?select=id&active=is.unknown&order=id") == [5, 10, 15, 20]
    assert ids(client, "/g_people?select=id&age=is.not_null&order=id") == [i for i in ALL_PEOPLE if i % 7]
    assert ids(client, "/g_people?select=id&age=not.is.not_null&order=id") == [7, 14]


def test_is_values_are_case_insensitive(client: Client) -> None:
    """Q-FILTER-IS (QuerySpec "matches with trilean values in upper or mixed case")."""
    assert ids(client, "/g_people?select=id&active=is.TRUE&order=id") == [1, 3, 7, 9, 11, 13, 17, 19]
    assert ids(client, "/g_people?select=id&active=is.FaLsE&order=id") == [2, 4, 6, 8, 12, 14, 16, 18]
    assert ids(client, "/g_people?select=id&age=is.NuLl&order=id") == [7, 14]
    assert ids(client, "/g_people?select=id&active=is.UnKnOwN&order=id") == [5, 10, 15, 20]
    assert ids(client, "/g_people?select=id&age=is.NoT_NuLl&order=id") == [i for i in ALL_PEOPLE if i % 7]


def test_is_with_an_unknown_value_is_pgrst100(client: Client) -> None:
    """Q-FILTER-IS: anything but null/not_null/true/false/unknown is a parse error."""
    for value in ("nil", "1", "yes"):
        body = error(client.get(f"/g_people?active=is.{value}"), 400, "PGRST100")
        assert body["message"].startswith(f'"failed to parse filter (is.{value})"'), body


def test_isdistinct_treats_null_as_a_value(client: Client) -> None:
    """Q-FILTER-ISDISTINCT."""
    assert ids(client, "/g_people?select=id&active=isdistinct.true&order=id") == [
        2, 4, 5, 6, 8, 10, 12, 14, 15, 16, 18, 20,
    ]  # fmt: skip
    assert ids(client, "/g_people?select=id&active=not.isdistinct.true&order=id") == [1, 3, 7, 9, 11, 13, 17, 19]
    assert ids(client, "/g_people?select=id&age=isdistinct.21&id=lte.7&order=id") == [2, 3, 4, 5, 6, 7]


def test_fts_on_a_tsvector_column(client: Client) -> None:
    """Q-FILTER-FTS / Q-FILTER-FTS-LANG: tsvector columns are used as they are."""
    assert ids(client, "/g_docs?select=id&tsv=fts.impossible") == [1]
    assert ids(client, "/g_docs?select=id&tsv=fts(english).fun%26possible") == [2]
    assert ids(client, "/g_docs?select=id&tsv=fts.fun%26!possible") == [1]
    # `simple` keeps stop words in the query, but the english tsvector has none.
    assert ids(client, "/g_docs?select=id&tsv=fts(simple).the") == []


def test_plfts_phfts_and_wfts_on_a_tsvector_column(client: Client) -> None:
    """Q-FILTER-PLFTS / Q-FILTER-PHFTS / Q-FILTER-WFTS."""
    assert ids(client, "/g_docs?select=id&tsv=plfts.The%20Fat%20Rats") == [3]
    assert ids(client, "/g_docs?select=id&tsv=phfts.fat%20cats") == [3]
    assert ids(client, "/g_docs?select=id&tsv=phfts.cats%20fat") == []
    assert ids(client, "/g_docs?select=id&tsv=wfts.fun%20-possible") == [1]
    assert ids(client, "/g_docs?select=id&tsv=wfts(english).impossible%20or%20rats&order=id") == [1, 3]


def test_fts_negated(client: Client) -> None:
    """Q-FILTER-NOT on fts."""
    assert ids(client, "/g_docs?select=id&tsv=not.fts.fun&order=id") == [3, 4]
    assert ids(client, "/g_docs?select=id&tsv=not.fts(english).impossible%7Cfat&order=id") == [2, 4]


def test_fts_on_a_text_column_wraps_it_in_to_tsvector(client: Client) -> None:
    """Q-FILTER-FTS-TSV: `to_tsvector([lang,] col)`, the language also configures the vector."""
    assert ids(client, "/g_docs?select=id&body=fts.fox") == [4]
    assert ids(client, "/g_docs?select=id&body=fts(simple).the&order=id") == [1, 4]
    assert ids(client, "/g_docs?select=id&body=plfts(english).fat%20rats") == [3]
    assert ids(client, "/g_docs?select=id&body=phfts(english).quick%20brown") == [4]


def test_fts_on_a_jsonb_column_wraps_it_in_to_tsvector(client: Client) -> None:
    """Q-FILTER-FTS-TSV on json."""
    assert ids(client, "/g_docs?select=id&jdoc=fts(english).impossible") == [1]
    assert ids(client, "/g_docs?select=id&jdoc=wfts.quick%20dog") == [4]


def test_contains_and_contained_on_arrays(client: Client) -> None:
    """Q-FILTER-CS / Q-FILTER-CD with `{…}` array literals."""
    assert ids(client, "/g_things?select=id&ints=cs.{1,2}") == [1]
    assert ids(client, "/g_things?select=id&ints=cd.{1,2,3,4}&order=id") == [1, 2, 4]
    assert ids(client, "/g_things?select=id&tags=cs.{red}&order=id") == [1, 3]
    assert ids(client, "/g_things?select=id&ints=eq.{5}") == [3]


def test_overlap_on_arrays(client: Client) -> None:
    """Q-FILTER-OV; `not.` drops rows whose array is NULL."""
    assert ids(client, "/g_things?select=id&ints=ov.{2,5}&order=id") == [1, 2, 3]
    assert ids(client, "/g_things?select=id&tags=ov.{blue,green}&order=id") == [1, 2]
    assert ids(client, "/g_things?select=id&ints=not.ov.{2,5}") == [4]


def test_contains_on_jsonb_and_on_a_jsonb_domain(client: Client) -> None:
    """Q-FILTER-CS / Q-FILTER-CD on jsonb and a domain over jsonb."""
    assert ids(client, '/g_things?select=id&jb=cs.{"n":1}') == [1]
    assert ids(client, '/g_things?select=id&jb=cd.{"n":4,"a":{"b":"x"},"z":1}') == [4]
    assert ids(client, '/g_things?select=id&doc=cs.{"kind":"memo"}&order=id') == [1, 3]


def test_range_containment_and_overlap(client: Client) -> None:
    """Q-FILTER-CS / CD / OV and eq on int4range."""
    assert ids(client, "/g_ranges?select=id&ir=eq.[1,3]") == [1]
    assert ids(client, "/g_ranges?select=id&ir=cs.[1,2]") == [1]
    assert ids(client, "/g_ranges?select=id&ir=cd.[1,6]&order=id") == [1, 2]
    assert ids(client, "/g_ranges?select=id&ir=ov.[0,4]&order=id") == [1, 2]


def test_range_position_operators(client: Client) -> None:
    """Q-FILTER-SL / SR / NXR / NXL / ADJ."""
    assert ids(client, "/g_ranges?select=id&ir=sl.[9,10]&order=id") == [1, 2]
    assert ids(client, "/g_ranges?select=id&ir=sr.[3,4]&order=id") == [3, 4]
    assert ids(client, "/g_ranges?select=id&ir=nxr.[4,7]&order=id") == [1, 2]
    assert ids(client, "/g_ranges?select=id&ir=nxl.[4,7]&order=id") == [3, 4]
    assert ids(client, "/g_ranges?select=id&ir=adj.(3,10]") == [1]


def test_range_operators_negated_and_isdistinct(client: Client) -> None:
    """Q-FILTER-NOT on ranges; NULL ranges fail NOT but are distinct."""
    assert ids(client, "/g_ranges?select=id&ir=not.ov.[0,4]&order=id") == [3, 4]
    assert ids(client, "/g_ranges?select=id&ir=not.sl.[9,10]&order=id") == [3, 4]
    assert ids(client, "/g_ranges?select=id&ir=isdistinct.[1,3]&order=id") == [2, 3, 4, 5]


def test_tsrange_operators(client: Client) -> None:
    """Range operators on tsrange."""
    assert ids(client, "/g_ranges?select=id&tr=ov.[2024-01-01T12:00,2024-01-03T00:00)&order=id") == [1, 2]
    assert ids(client, "/g_ranges?select=id&tr=sl.[2024-01-10,2024-01-20]&order=id") == [1, 2, 3]
    assert ids(client, "/g_ranges?select=id&tr=cs.[2024-01-03,2024-01-04]") == [2]


def test_any_and_all_modifiers(client: Client) -> None:
    """Q-FILTER-MOD: `op(any)`/`op(all)` with a PG array literal; like/ilike still map `*`."""
    assert ids(client, "/g_people?select=id&id=eq(any).{1,3,5}&order=id") == [1, 3, 5]
    assert ids(client, "/g_people?select=id&id=gt(all).{17,18}&order=id") == [19, 20]
    assert ids(client, "/g_people?select=id&id=lte(any).{2,1}&order=id") == [1, 2]
    assert ids(client, "/g_people?select=id&first_name=like(any).{A*,B*}&order=id") == [1, 2]
    assert ids(client, "/g_people?select=id&first_name=ilike(all).{*a*,*m*}&order=id") == [13, 16]
    assert ids(client, "/g_people?select=id&first_name=match(any).{^Q,^R}&order=id") == [17, 18]
    assert ids(client, "/g_people?select=id&first_name=imatch(all).{^t,m$}") == [20]
    assert ids(client, "/g_people?select=id&id=not.eq(any).{1,2}&id=lte.4&order=id") == [3, 4]


def test_any_modifier_on_an_operator_without_quantifiers_is_pgrst100(client: Client) -> None:
    """Q-FILTER-MOD: only eq, gt, gte, lt, lte, like, ilike, match, imatch take (any)/(all)."""
    body = error(client.get("/g_people?id=neq(any).{1,2}"), 400, "PGRST100")
    assert body["message"].startswith('"failed to parse filter (neq(any).{1,2})"')


def test_json_path_filters_on_json_and_jsonb(client: Client) -> None:
    """Q-FILTER-JSON: keys, `->>`, integer and negative indexes, chains."""
    assert ids(client, "/g_things?select=id&j->a->>b=eq.x") == [1]
    assert ids(client, "/g_things?select=id&jb->a->>b=eq.x&order=id") == [1, 4]
    assert ids(client, "/g_things?select=id&jb->arr->0=eq.10") == [1]
    assert ids(client, "/g_things?select=id&j->0->>c=eq.1") == [3]
    assert ids(client, "/g_things?select=id&jb->-1->>c=eq.2") == [3]
    assert ids(client, "/g_things?select=id&jb->>k=in.(v1,v2)&order=id") == [1, 2]


def test_json_path_with_quoted_keys(client: Client) -> None:
    """Q-FILTER-JSON: keys may be double-quoted."""
    assert ids(client, '/g_things?select=id&jb->"a"->>"b"=eq.x&order=id') == [1, 4]
    assert rows(client, '/g_things?select=jb->"arr"->1&id=eq.1') == [{"arr": 20}]


def test_json_path_filters_on_composite_and_array_columns(client: Client) -> None:
    """Q-FILTER-JSON: other types are wrapped in to_jsonb()."""
    assert ids(client, "/g_things?select=id&pt->>tag=eq.p1") == [1]
    assert ids(client, "/g_things?select=id&pt->x=gt.2&order=id") == [2, 3]
    assert ids(client, "/g_things?select=id&ints->0=eq.5") == [3]


def test_filters_on_domain_columns(client: Client) -> None:
    """Domains over text and jsonb filter like their base types."""
    assert ids(client, "/g_things?select=id&label=eq.alpha") == [1]
    assert ids(client, "/g_things?select=id&label=like.*a&order=id") == [1, 2, 3]
    assert ids(client, "/g_things?select=id&label=is.null&order=id") == [4, 5, 6, 7]
    assert ids(client, "/g_things?select=id&doc->>kind=eq.memo&order=id") == [1, 3]


def test_not_negates_several_operators(client: Client) -> None:
    """Q-FILTER-NOT."""
    assert ids(client, "/g_people?select=id&id=not.gt.2&order=id") == [1, 2]
    assert ids(client, "/g_people?select=id&first_name=not.like.*a*&id=lte.5&order=id") == [1, 2, 3, 5]
    assert ids(client, "/g_people?select=id&id=not.in.(3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20)") == [1, 2]
    assert ids(client, "/g_people?select=id&active=not.is.true&id=lte.6&order=id") == [2, 4, 5, 6]
    assert ids(client, "/g_things?select=id&ints=not.cs.{2}&order=id") == [3, 4]


# --- errors ------------------------------------------------------------------------------------


def test_unknown_operator_is_pgrst100(client: Client) -> None:
    """Q-PARSE-ERR."""
    body = error(client.get("/g_people?id=foo.1"), 400, "PGRST100")
    assert body["message"].startswith('"failed to parse filter (foo.1)" (line 1, column ')
    assert body["hint"] is None


def test_filter_without_operator_is_pgrst100_with_parser_details(client: Client) -> None:
    """Q-PARSE-ERR (QuerySpec "fails if an operator is not given")."""
    r = client.get("/g_people?id=0")
    assert error(r, 400, "PGRST100") == {
        "code": "PGRST100",
        "details": 'unexpected "0" expecting "not" or operator (eq, gt, ...)',
        "hint": None,
        "message": '"failed to parse filter (0)" (line 1, column 1)',
    }
    assert r.headers["Proxy-Status"] == "PostgREST; error=PGRST100"


def test_cast_in_filter_key_is_a_parse_error(client: Client) -> None:
    """Q-FILTER-NO-CAST, as issue 3 asks: PostgREST's parser silently drops `::text` and filters
    on `id`; pgwsgi refuses the cast instead of ignoring part of what the client wrote."""
    r = client.get("/g_people?select=id&id::text=eq.1")
    assert error(r, 400, "PGRST100")["message"].startswith('"failed to parse tree path (id::text)"')


def test_unknown_column_in_filter_is_42703(client: Client) -> None:
    """Q-FILTER-UNKNOWN-COL: PostgreSQL's error, 400."""
    r = client.get("/g_people?nope=eq.1")
    assert error(r, 400, "42703") == {
        "code": "42703",
        "message": "column g_people.nope does not exist",
        "details": None,
        "hint": None,
    }


def test_unknown_column_in_select_is_42703(client: Client) -> None:
    r = client.get("/g_people?select=id,nope")
    assert error(r, 400, "42703")["message"] == "column g_people.nope does not exist"


def test_unbalanced_parentheses_are_pgrst100(client: Client) -> None:
    """Q-PARSE-ERR: a missing `)` in a logic tree or an `in` list."""
    body = error(client.get("/g_people?or=(id.eq.1,id.eq.2"), 400, "PGRST100")
    assert body["message"].startswith('"failed to parse logic tree ((id.eq.1,id.eq.2)"')
    body = error(client.get("/g_people?or=(id.eq.1,and(id.eq.2,id.eq.3)"), 400, "PGRST100")
    assert body["message"].startswith('"failed to parse logic tree ((id.eq.1,and(id.eq.2,id.eq.3))"')
    body = error(client.get("/g_people?id=in.(1,2"), 400, "PGRST100")
    assert body["message"].startswith('"failed to parse filter (in.(1,2)"')


def test_extra_closing_parenthesis_after_a_logic_tree_is_ignored(client: Client) -> None:
    """AndOrParamsSpec "can handle eq and neq" sends `and=(id.eq.1,id.neq.2))` and gets [{id:1}]."""
    assert ids(client, "/g_people?select=id&and=(id.eq.1,id.neq.2))") == [1]


def test_bad_json_path_in_select_is_pgrst100(client: Client) -> None:
    """JsonOperatorSpec "gives a meaningful error on bad syntax"."""
    r = client.get("/g_things?select=jb->>--34")
    assert error(r, 400, "PGRST100") == {
        "code": "PGRST100",
        "details": 'unexpected "-" expecting digit',
        "hint": None,
        "message": '"failed to parse select parameter (jb->>--34)" (line 1, column 7)',
    }


# --- §3.3 logic trees --------------------------------------------------------------------------


def test_or_and_not_or_not_and(client: Client) -> None:
    """Q-LOGIC-KEYS / Q-LOGIC-SQL."""
    assert ids(client, "/g_people?select=id&or=(id.eq.1,id.eq.2)&order=id") == [1, 2]
    assert ids(client, "/g_people?select=id&and=(id.gte.3,id.lte.4)&order=id") == [3, 4]
    assert ids(client, "/g_people?select=id&not.or=(id.lt.19,id.eq.20)") == [19]
    assert ids(client, "/g_people?select=id&not.and=(id.gt.2,id.lte.20)&order=id") == [1, 2]


def test_logic_tree_is_anded_with_other_filters(client: Client) -> None:
    """Q-LOGIC-SQL."""
    assert ids(client, "/g_people?select=id&or=(id.eq.1,id.eq.2,id.eq.3)&last_name=eq.Jones") == [1]
    assert ids(client, "/g_people?select=id&or=(id.eq.1,id.eq.2)&and=(id.gte.2,id.lte.3)") == [2]


def test_logic_trees_nest_three_levels(client: Client) -> None:
    """Q-LOGIC-SYNTAX: nested `and(…)`, `or(…)`, `not.or(…)`."""
    url = "/g_people?select=id&or=(id.eq.1,and(id.gt.10,or(first_name.eq.Kim,first_name.eq.Tom)))&order=id"
    assert ids(client, url) == [1, 11, 20]
    assert ids(client, "/g_people?select=id&and=(id.lte.5,not.or(id.eq.2,id.eq.3))&order=id") == [1, 4, 5]
    url = "/g_people?select=id&or=(not.and(id.gt.1,id.lt.20),and(id.eq.10,not.or(age.is.null,active.is.true)))&order=id"
    assert ids(client, url) == [1, 10, 20]


def test_logic_values_quoted_with_commas_and_parentheses(client: Client) -> None:
    """Q-LOGIC-VALUES / Q-RESERVED-CHARS: double quotes protect `,` `(` `)`; backslash escapes."""
    url = '/g_things?select=id&or=(name.eq."Hebdon, John",name.eq."it\'s (x,y)")&order=id'
    assert ids(client, url) == [1, 7]
    assert ids(client, '/g_things?select=id&or=(name.like."*(007)",name.like."*, John")&order=id') == [1, 2]
    assert ids(client, r'/g_things?select=id&or=(name.eq."Double\"Quote\"McGraw\"",id.eq.4)&order=id') == [3, 4]
    assert ids(client, '/g_ranges?select=id&or=(ir.sl."[9,10]",ir.adj."(3,10]")&order=id') == [1, 2]


def test_logic_values_with_array_literals(client: Client) -> None:
    """Q-LOGIC-VALUES: a `{…}` literal keeps its commas."""
    assert ids(client, "/g_things?select=id&or=(ints.cs.{1,2},tags.cs.{blue})&order=id") == [1, 2]
    assert ids(client, "/g_things?select=id&and=(ints.ov.{2,5},ints.neq.{5})&order=id") == [1, 2]


def test_in_inside_a_logic_tree(client: Client) -> None:
    """Q-LOGIC-VALUES: `in.(…)` works inside, with quoted elements too."""
    assert ids(client, "/g_people?select=id&or=(id.in.(1,2),id.in.(19,20))&order=id") == [1, 2, 19, 20]
    url = '/g_things?select=id&or=(name.in.("Hebdon, John","a b"),id.eq.6)&order=id'
    assert ids(client, url) == [1, 5, 6]


def test_whitespace_around_logic_items_is_ignored_but_not_inside_values(client: Client) -> None:
    """Q-LOGIC-SYNTAX: spaces around `(`, `,`, `)` and field names are skipped; a value keeps its spaces."""
    assert ids(client, "/g_people?select=id&and=( or ( id.eq.1 , id.eq.2 ) , id.in.( 1, 3 ) )") == [1]
    # The first value is "Kim " (trailing space), which matches nobody.
    assert ids(client, "/g_people?select=id&or=(first_name.eq.Kim ,first_name.eq.Tom)") == [20]


def test_json_paths_inside_a_logic_tree(client: Client) -> None:
    """Q-LOGIC-FIELDS: json paths allowed."""
    assert ids(client, "/g_things?select=id&or=(jb->a->>b.eq.y,jb->>k.eq.v1)&order=id") == [1, 2]
    assert ids(client, "/g_things?select=id&or=(pt->>tag.eq.p2,j->0->>c.eq.1)&order=id") == [2, 3]


def test_operators_inside_a_logic_tree(client: Client) -> None:
    """Q-LOGIC-SYNTAX: `field.[not.]op.value` with is, isdistinct, fts, like."""
    assert ids(client, "/g_people?select=id&and=(age.is.null,active.is.false)") == [14]
    assert ids(client, "/g_people?select=id&or=(active.isdistinct.true,id.eq.1)&id=lte.3&order=id") == [1, 2]
    assert ids(client, "/g_docs?select=id&or=(tsv.fts.rats,body.phfts(english).quick brown)&order=id") == [3, 4]
    assert ids(client, "/g_people?select=id&and=(first_name.not.like.*a*,id.not.gt.5)&order=id") == [1, 2, 3, 5]


def test_empty_or_is_pgrst100(client: Client) -> None:
    """Q-LOGIC-SYNTAX (AndOrParamsSpec "cannot have zero conditions")."""
    assert error(client.get("/g_people?or=()"), 400, "PGRST100") == {
        "details": 'unexpected ")" expecting field name (* or [a..z0..9_$]), negation operator (not) '
        "or logic operator (and, or)",
        "message": '"failed to parse logic tree (())" (line 1, column 4)',
        "code": "PGRST100",
        "hint": None,
    }


# --- §3.4 select -------------------------------------------------------------------------------


def test_select_columns_star_and_alias(client: Client) -> None:
    """Q-SELECT-COL / Q-SELECT-STAR / Q-SELECT-ALIAS."""
    assert rows(client, "/g_people?select=id,first_name&id=eq.1") == [{"id": 1, "first_name": "Ann"}]
    assert rows(client, "/g_people?select=*&id=eq.1") == [
        {"id": 1, "first_name": "Ann", "last_name": "Jones", "age": 21, "active": True, "score": 1.25}
    ]
    assert rows(client, "/g_people?select=pid:id,name:first_name&id=eq.2") == [{"pid": 2, "name": "Bob"}]


def test_select_casts(client: Client) -> None:
    """Q-SELECT-CAST; `::` is not an alias separator."""
    assert rows(client, "/g_people?select=id::text,score::int&id=eq.3") == [{"id": "3", "score": 4}]
    assert rows(client, "/g_people?select=sid:id::text&id=eq.3") == [{"sid": "3"}]


def test_select_json_paths_default_to_the_last_key(client: Client) -> None:
    """Q-SELECT-JSON: output key = last key of the path (an index after it does not count)."""
    url = "/g_things?select=id,jb->a->>b,jb->arr->0,j->0->>c&id=in.(1,3)&order=id"
    assert rows(client, url) == [
        {"id": 1, "b": "x", "arr": 10, "c": None},
        {"id": 3, "b": None, "arr": None, "c": "1"},
    ]


def test_select_json_path_with_only_indexes_uses_the_column_name(client: Client) -> None:
    """Q-SELECT-JSON: `ints->0` (array, via to_jsonb) and `j->0` are keyed by the column name."""
    assert rows(client, "/g_things?select=ints->0,j->0&id=eq.3") == [{"ints": 5, "j": {"c": 1}}]


def test_select_json_path_alias_and_cast(client: Client) -> None:
    """Q-SELECT-JSON / Q-SELECT-ALIAS / Q-SELECT-CAST together."""
    assert rows(client, "/g_things?select=first:jb->arr->0,n:jb->>n::int&id=eq.2") == [{"first": 30, "n": 2}]
    assert rows(client, "/g_things?select=jb->>n::int&id=eq.2") == [{"n": 2}]


def test_select_paths_into_a_composite_and_a_jsonb_domain(client: Client) -> None:
    """Q-SELECT-JSON on composite (to_jsonb) and domain columns."""
    assert rows(client, "/g_things?select=pt->x,pt->>tag,doc->>kind&id=eq.1") == [{"x": 1, "tag": "p1", "kind": "memo"}]


def test_select_computed_fields(client: Client) -> None:
    """Q-SELECT-COMPUTED: functions taking the row type, text and jsonb results."""
    assert rows(client, "/g_people?select=id,g_full_name,g_info&id=eq.11") == [
        {"id": 11, "g_full_name": "Kim Brown", "g_info": {"initials": "KB", "adult": True}}
    ]
    assert rows(client, "/g_people?select=g_info->>initials&id=eq.1") == [{"initials": "AJ"}]


def test_filter_and_order_on_computed_fields(client: Client) -> None:
    """Q-FILTER-COMPUTED."""
    assert ids(client, "/g_people?select=id&g_full_name=eq.Kim Brown") == [11]
    assert ids(client, "/g_people?select=id&g_full_name=like.*Smith&order=id") == [3, 6, 9, 12, 15, 18]
    assert ids(client, "/g_people?select=id&order=g_full_name.desc&limit=2") == [20, 19]
    assert ids(client, "/g_people?select=id&g_info->>initials=eq.KB") == [11]


# --- §3.5 order, limit, offset, Range ----------------------------------------------------------


def test_order_directions_and_nulls(client: Client) -> None:
    """Q-ORDER: asc/desc, nullsfirst/nullslast, PG defaults (DESC ⇒ NULLS FIRST), several terms."""
    assert ids(client, "/g_people?select=id&order=age.desc.nullsfirst,id&limit=4") == [7, 14, 20, 19]
    assert ids(client, "/g_people?select=id&order=age.nullslast,id&offset=17") == [20, 7, 14]
    assert ids(client, "/g_people?select=id&order=age.desc,id&limit=3") == [7, 14, 20]
    assert ids(client, "/g_people?select=id&order=age.asc&limit=2") == [1, 2]
    assert ids(client, "/g_people?select=id&order=last_name,first_name.desc&limit=3") == [20, 17, 14]


def test_order_by_json_path_and_composite_field(client: Client) -> None:
    """Q-ORDER with `field->json` terms."""
    assert ids(client, "/g_things?select=id&order=jb->>k.desc.nullslast,id") == [2, 1, 3, 4, 5, 6, 7]
    assert ids(client, "/g_things?select=id&order=pt->x.desc.nullslast,id") == [3, 2, 1, 4, 5, 6, 7]


def test_order_with_a_bad_token_is_pgrst100(client: Client) -> None:
    """Q-ORDER-ERR (QuerySpec "gives meaningful error message on bad syntax")."""
    assert error(client.get("/g_people?order=id.asc.nullslasttt"), 400, "PGRST100") == {
        "details": "unexpected 't' expecting \",\" or end of input",
        "message": '"failed to parse order (id.asc.nullslasttt)" (line 1, column 17)',
        "code": "PGRST100",
        "hint": None,
    }
    body = error(client.get("/g_people?order=id.up"), 400, "PGRST100")
    assert body["message"].startswith('"failed to parse order (id.up)"')


def test_limit_and_offset_give_a_window_and_content_range(client: Client) -> None:
    """Q-LIMIT / H-CONTENT-RANGE."""
    r = client.get("/g_people?select=id&order=id&limit=5")
    assert (r.status_code, r.headers["Content-Range"]) == (200, "0-4/*")
    assert [row["id"] for row in r.get_json()] == [1, 2, 3, 4, 5]
    r = client.get("/g_people?select=id&order=id&limit=5&offset=10")
    assert (r.status_code, r.headers["Content-Range"]) == (200, "10-14/*")
    assert [row["id"] for row in r.get_json()] == [11, 12, 13, 14, 15]
    r = client.get("/g_people?select=id&order=id&offset=18")
    assert (r.status_code, r.headers["Content-Range"]) == (200, "18-19/*")
    assert r.get_json() == [{"id": 19}, {"id": 20}]


def test_limit_zero_is_an_empty_page(client: Client) -> None:
    """Q-LIMIT (RangeSpec "succeeds and returns an empty array if limit equals 0")."""
    r = client.get("/g_people?select=id&limit=0")
    assert r.status_code == 200
    assert r.get_data(as_text=True) == "[]"
    assert r.headers["Content-Range"] == "*/*"


def test_limit_zero_with_an_offset_is_416(client: Client) -> None:
    """Q-LIMIT: `limit=0&offset=5` is the empty range [5,4], not the allowed limit-zero range."""
    assert error(client.get("/g_people?limit=0&offset=5"), 416, "PGRST103") == NEGATIVE_LIMIT


def test_negative_limit_is_416(client: Client) -> None:
    """Q-LIMIT (RangeSpec "fails if limit is negative")."""
    r = client.get("/g_people?select=id&limit=-1")
    assert error(r, 416, "PGRST103") == NEGATIVE_LIMIT
    assert r.headers["Proxy-Status"] == "PostgREST; error=PGRST103"


def test_negative_offset_is_ignored(client: Client) -> None:
    """RangeSpec "succeeds if offset is negative as a no-op"."""
    r = client.get("/g_people?select=id&offset=-4&order=id")
    assert r.status_code == 200
    assert [row["id"] for row in r.get_json()] == ALL_PEOPLE
    assert r.headers["Content-Range"] == "0-19/*"


def test_non_integer_limit_and_offset_are_ignored(client: Client) -> None:
    """Q-LIMIT: non-integer values are silently ignored."""
    r = client.get("/g_people?select=id&order=id&limit=abc&offset=x1")
    assert r.status_code == 200
    assert [row["id"] for row in r.get_json()] == ALL_PEOPLE
    assert r.headers["Content-Range"] == "0-19/*"


def test_range_header_selects_rows(client: Client) -> None:
    """Q-RANGE-HDR: `from-to`, open-ended `from-`, and truncation past the end."""
    r = get(client, "/g_people?select=id&order=id", Range="0-4")
    assert (r.status_code, r.headers["Content-Range"]) == (200, "0-4/*")
    assert [row["id"] for row in r.get_json()] == [1, 2, 3, 4, 5]
    r = get(client, "/g_people?select=id&order=id", Range="5-")
    assert (r.status_code, r.headers["Content-Range"]) == (200, "5-19/*")
    assert [row["id"] for row in r.get_json()] == list(range(6, 21))
    r = get(client, "/g_people?select=id&order=id", Range="18-100")
    assert (r.status_code, r.headers["Content-Range"]) == (200, "18-19/*")


def test_malformed_range_header_is_ignored(client: Client) -> None:
    """Q-RANGE-HDR: only `^\\d+-\\d*$` is understood (no unit prefix)."""
    for value in ("items=0-1", "abc", "-5"):
        r = get(client, "/g_people?select=id", Range=value)
        assert r.status_code == 200, value
        assert r.headers["Content-Range"] == "0-19/*", value


def test_range_header_intersects_limit_and_offset(client: Client) -> None:
    """Q-RANGE-COMBINE."""
    r = get(client, "/g_people?select=id&order=id&limit=3", Range="0-9")
    assert r.headers["Content-Range"] == "0-2/*"
    assert r.get_json() == [{"id": 1}, {"id": 2}, {"id": 3}]
    r = get(client, "/g_people?select=id&order=id&offset=5", Range="2-9")
    assert r.headers["Content-Range"] == "5-9/*"
    assert [row["id"] for row in r.get_json()] == [6, 7, 8, 9, 10]


def test_inverted_range_header_is_416(client: Client) -> None:
    """Q-RANGE-HDR: from > to."""
    r = get(client, "/g_people", Range="5-2")
    assert error(r, 416, "PGRST103") == range_error(
        "The lower boundary must be lower than or equal to the upper boundary in the Range header."
    )


def test_range_header_disjoint_from_offset_is_416(client: Client) -> None:
    """Q-RANGE-COMBINE: Range 0-9 ∩ offset 20 is empty ⇒ the negative-limit error."""
    r = get(client, "/g_people?offset=20", Range="0-9")
    assert error(r, 416, "PGRST103") == NEGATIVE_LIMIT


def test_exact_count_on_a_partial_page_is_206(client: Client) -> None:
    """H-GET-STATUS / H-PREFER-COUNT."""
    r = get(client, "/g_people?select=id&order=id&limit=5", Prefer="count=exact")
    assert r.status_code == 206
    assert r.headers["Content-Range"] == "0-4/20"
    assert r.headers["Preference-Applied"] == "count=exact"
    r = get(client, "/g_people?select=id", Prefer="count=exact")
    assert (r.status_code, r.headers["Content-Range"]) == (200, "0-19/20")
    r = get(client, "/g_people?select=id&order=id", Range="5-9", Prefer="count=exact")
    assert (r.status_code, r.headers["Content-Range"]) == (206, "5-9/20")


def test_offset_at_the_end_with_exact_count_is_206_with_star_range(client: Client) -> None:
    """H-GET-STATUS: offset == total is not > total, so no 416; no rows ⇒ `*/20`."""
    r = get(client, "/g_people?select=id&offset=20", Prefer="count=exact")
    assert r.status_code == 206
    assert r.get_data(as_text=True) == "[]"
    assert r.headers["Content-Range"] == "*/20"


def test_limit_zero_and_single_item_ranges_with_exact_count(client: Client) -> None:
    """H-CONTENT-RANGE / H-GET-STATUS: no rows of a known non-zero total ⇒ `*/20` and 206."""
    r = get(client, "/g_people?select=id&limit=0", Prefer="count=exact")
    assert (r.status_code, r.get_data(as_text=True), r.headers["Content-Range"]) == (206, "[]", "*/20")
    r = get(client, "/g_people?select=id&order=id", Range="0-0", Prefer="count=exact")
    assert (r.status_code, r.headers["Content-Range"]) == (206, "0-0/20")
    assert r.get_json() == [{"id": 1}]


def test_offset_past_the_end_with_exact_count_is_416(client: Client) -> None:
    """H-416-BODY: built by the read response (Response.hs), not by the error path: it keeps the read's
    Content-Range, Content-Location and Preference-Applied, and has no Proxy-Status."""
    r = get(client, "/g_people?select=id&offset=21", Prefer="count=exact")
    assert error(r, 416, "PGRST103") == range_error("An offset of 21 was requested, but there are only 20 rows.")
    assert r.headers["Content-Range"] == "*/20"
    assert r.headers.get("Preference-Applied") == "count=exact"
    assert r.headers.get("Content-Location") == "/g_people?offset=21&select=id"
    assert "Proxy-Status" not in r.headers


def test_offset_past_the_end_without_count_is_an_empty_200(client: Client) -> None:
    """H-GET-STATUS: without a known total there is no 416."""
    r = client.get("/g_people?select=id&offset=100")
    assert r.status_code == 200
    assert r.get_data(as_text=True) == "[]"
    assert r.headers["Content-Range"] == "*/*"


def test_exact_count_of_an_empty_result_is_star_slash_zero(client: Client) -> None:
    """H-CONTENT-RANGE (RangeSpec "returns empty body with Content-Range */0")."""
    r = get(client, "/g_people?id=gt.100", Prefer="count=exact")
    assert (r.status_code, r.get_data(as_text=True), r.headers["Content-Range"]) == (200, "[]", "*/0")
    r = get(client, "/g_empty", Prefer="count=exact")
    assert (r.status_code, r.get_data(as_text=True), r.headers["Content-Range"]) == (200, "[]", "*/0")


def test_offset_on_an_empty_table_with_exact_count_is_416(client: Client) -> None:
    """H-416-BODY (RangeSpec "refuses a range with nonzero start when there are no items")."""
    r = get(client, "/g_empty?offset=1", Prefer="count=exact")
    assert error(r, 416, "PGRST103") == range_error("An offset of 1 was requested, but there are only 0 rows.")
    assert r.headers["Content-Range"] == "*/0"
    r = get(client, "/g_empty", Range="1-2", Prefer="count=exact")
    assert error(r, 416, "PGRST103") == range_error("An offset of 1 was requested, but there are only 0 rows.")


def test_db_max_rows_caps_every_page(make_client: Callable[..., Client]) -> None:
    """Q-RANGE-COMBINE: db-max-rows caps after the Range/limit intersection; counts stay exact."""
    client = make_client(db_max_rows=5)
    r = client.get("/g_people?select=id&order=id")
    assert (r.status_code, r.headers["Content-Range"]) == (200, "0-4/*")
    assert [row["id"] for row in r.get_json()] == [1, 2, 3, 4, 5]
    r = get(client, "/g_people?select=id&order=id", Prefer="count=exact")
    assert (r.status_code, r.headers["Content-Range"]) == (206, "0-4/20")
    r = client.get("/g_people?select=id&order=id&limit=2")
    assert r.headers["Content-Range"] == "0-1/*"
    r = client.get("/g_people?select=id&order=id&limit=10")
    assert r.headers["Content-Range"] == "0-4/*"
    r = get(client, "/g_people?select=id&order=id", Range="3-10")
    assert r.headers["Content-Range"] == "3-7/*"
    assert [row["id"] for row in r.get_json()] == [4, 5, 6, 7, 8]
    r = client.get("/g_people?select=id&order=id&offset=18")
    assert r.headers["Content-Range"] == "18-19/*"
    r = client.get("/g_people?select=id&limit=0")
    assert (r.status_code, r.get_data(as_text=True), r.headers["Content-Range"]) == (200, "[]", "*/*")


# --- §4.3 Prefer -------------------------------------------------------------------------------


def test_count_planned_gives_an_integer_total(client: Client) -> None:
    """H-PREFER-COUNT: planned = the planner's row estimate of the count query."""
    r = get(client, "/g_people?select=id", Prefer="count=planned")
    assert r.status_code in (200, 206)
    assert re.fullmatch(r"0-19/\d+", r.headers["Content-Range"]), r.headers["Content-Range"]
    assert r.headers["Preference-Applied"] == "count=planned"
    r = get(client, "/g_people?select=id&limit=5", Prefer="count=planned")
    assert re.fullmatch(r"0-4/\d+", r.headers["Content-Range"]), r.headers["Content-Range"]


def test_count_estimated_without_max_rows_takes_the_larger(client: Client) -> None:
    """Without db-max-rows PostgREST answers max(exact, planned) (its `Just n > Nothing` holds;
    RelatedQueriesSpec "works with count=estimated" expects 0-3/5 for four rows)."""
    r = get(client, "/g_people?select=id&limit=5", Prefer="count=estimated")
    planned = get(client, "/g_people?select=id&limit=5", Prefer="count=planned")
    assert r.status_code == 206
    expected = max(20, int(planned.headers["Content-Range"].split("/")[1]))
    assert r.headers["Content-Range"] == f"0-4/{expected}"
    assert r.headers["Preference-Applied"] == "count=estimated"
    # The planner's guess for a small filtered read can pass the exact count: then even a
    # complete page is partial, HEAD included (H-PREFER-COUNT).
    r = client.head("/g_people?select=id&id=lt.4", headers={"Prefer": "count=estimated"})
    planned = get(client, "/g_people?select=id&id=lt.4", Prefer="count=planned")
    guess = int(planned.headers["Content-Range"].split("/")[1])
    assert r.headers["Content-Range"] == f"0-2/{max(3, guess)}"
    assert r.status_code == (206 if guess > 3 else 200)


def test_count_estimated_with_max_rows(make_client: Callable[..., Client]) -> None:
    """H-PREFER-COUNT: exact up to db-max-rows; beyond it max(max-rows + 1, planned)."""
    client = make_client(db_max_rows=5)
    r = get(client, "/g_people?select=id", Prefer="count=estimated")
    assert r.status_code == 206
    match = re.fullmatch(r"0-4/(\d+)", r.headers["Content-Range"])
    assert match, r.headers["Content-Range"]
    assert int(match.group(1)) >= 6
    r = get(client, "/g_people?select=id&id=lt.4", Prefer="count=estimated")
    assert (r.status_code, r.headers["Content-Range"]) == (200, "0-2/3")


def test_handling_strict_rejects_invalid_preferences(client: Client) -> None:
    """H-PREFER-HANDLING (HandlingSpec)."""
    r = get(client, "/g_people", Prefer="handling=strict, anything")
    assert error(r, 400, "PGRST122") == {
        "code": "PGRST122",
        "message": "Invalid preferences given with handling=strict",
        "details": "Invalid preferences: anything",
        "hint": None,
    }
    r = get(client, "/g_people", Prefer="handling=strict, foo, return=everything, count=none, params=single-object")
    assert error(r, 400, "PGRST122")["details"] == (
        "Invalid preferences: foo, return=everything, count=none, params=single-object"
    )


def test_handling_lenient_ignores_invalid_preferences(client: Client) -> None:
    """H-PREFER-HANDLING: lenient (also the default) ignores unknown tokens; they are never echoed."""
    r = get(client, "/g_people?select=id&limit=1", Prefer="handling=lenient, anything")
    assert r.status_code == 200
    assert r.headers["Preference-Applied"] == "handling=lenient"
    r = get(client, "/g_people?select=id&limit=1", Prefer="anything, count=none")
    assert r.status_code == 200
    assert "Preference-Applied" not in r.headers
    assert r.headers["Content-Range"] == "0-0/*"


def test_known_preferences_that_do_not_apply_to_reads_are_valid_but_not_echoed(client: Client) -> None:
    """H-PREF-APPLIED: return/resolution/missing/tx/max-affected are accepted tokens, not listed on GET."""
    prefer = "handling=strict, return=representation, resolution=merge-duplicates, missing=default, tx=rollback, max-affected=5"
    r = get(client, "/g_people?select=id&limit=1", Prefer=prefer)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.headers["Preference-Applied"] == "handling=strict"


def test_preference_applied_lists_count_handling_timezone_in_a_fixed_order(client: Client) -> None:
    """H-PREF-APPLIED: order is that of PostgREST, not of the request."""
    r = get(client, "/g_people?select=id&limit=1", Prefer="timezone=UTC, handling=strict, count=exact")
    assert r.status_code == 206
    assert r.headers["Preference-Applied"] == "count=exact, handling=strict, timezone=UTC"


def test_first_occurrence_of_a_preference_wins_and_tokens_are_trimmed(client: Client) -> None:
    """H-PREFER-PARSE."""
    r = get(client, "/g_people?select=id&limit=2", Prefer="count=exact, count=planned")
    assert r.headers["Preference-Applied"] == "count=exact"
    assert r.headers["Content-Range"] == "0-1/20"
    r = get(client, "/g_people?select=id&limit=2", Prefer="   count=exact  ,handling=lenient  ")
    assert r.headers["Preference-Applied"] == "count=exact, handling=lenient"


def test_timezone_preference_changes_timestamptz_output(client: Client) -> None:
    """H-PREFER-TIMEZONE (TimezoneSpec)."""
    r = get(client, "/g_events?order=id", Prefer="timezone=America/Los_Angeles")
    assert r.status_code == 200
    assert r.get_json() == [{"id": 1, "at": "2024-01-15T04:00:00-08:00"}, {"id": 2, "at": "2024-07-15T05:00:00-07:00"}]
    assert r.headers["Preference-Applied"] == "timezone=America/Los_Angeles"
    r = get(client, "/g_events?order=id", Prefer="handling=strict, timezone=UTC")
    assert r.get_json() == [{"id": 1, "at": "2024-01-15T12:00:00+00:00"}, {"id": 2, "at": "2024-07-15T12:00:00+00:00"}]
    assert r.headers["Preference-Applied"] == "handling=strict, timezone=UTC"


def test_timezone_preference_accepts_numeric_offsets(client: Client) -> None:
    """H-PREFER-TIMEZONE: `-4` is passed to set_config as it is."""
    r = get(client, "/g_events?id=eq.1", Prefer="timezone=-4")
    assert r.get_json() == [{"id": 1, "at": "2024-01-15T08:00:00-04:00"}]
    assert r.headers["Preference-Applied"] == "timezone=-4"


def test_invalid_timezone_is_400_22023_even_when_lenient(client: Client) -> None:
    """H-PREFER-TIMEZONE / V-TIMEZONE."""
    expected = {
        "code": "22023",
        "details": None,
        "hint": None,
        "message": 'invalid value for parameter "TimeZone": "Invalid/Timezone"',
    }
    for prefer in ("timezone=Invalid/Timezone", "handling=lenient, timezone=Invalid/Timezone"):
        assert error(get(client, "/g_events", Prefer=prefer), 400, "22023") == expected, prefer


# --- §7 media types ----------------------------------------------------------------------------


def test_default_and_wildcard_accept_give_json(client: Client) -> None:
    """M-ACCEPT-PARSE / M-CONTENT-TYPE: no Accept ⇒ `*/*` ⇒ application/json."""
    for headers in ({}, {"Accept": "*/*"}, {"Accept": "application/json"}, {"Accept": "text/unknowntype, */*"}):
        r = client.get("/g_people?select=id&id=lt.3&order=id", headers=headers)
        assert r.status_code == 200, headers
        assert r.headers["Content-Type"] == JSON, headers
        assert r.get_data(as_text=True) == '[{"id":1}, \n {"id":2}]'
        assert r.headers["Content-Length"] == str(len(r.get_data()))


def test_accept_quality_values_choose_the_type(client: Client) -> None:
    """M-ACCEPT-PARSE: sort by q, then by specificity (`*/*` last among equals)."""
    cases = {
        "text/csv;q=0.5, application/json": JSON,
        "application/json;q=0.5, text/csv": CSV,
        "*/*, text/csv": CSV,
        "text/csv, application/json": CSV,
        "text/unknowntype, text/csv": CSV,
        "text/csv; version=1": CSV,
        "application/json;q=0.1, text/csv;q=0.2, */*;q=0.05": CSV,
        "TEXT/CSV": CSV,
        "Application/JSON": JSON,
        # AMB-Q0: q=0 does not make a type unacceptable.
        "text/csv;q=0": CSV,
    }
    for accept, content_type in cases.items():
        r = get(client, "/g_people?select=id&id=eq.1", Accept=accept)
        assert r.status_code == 200, accept
        assert r.headers["Content-Type"] == content_type, accept


def test_singular_object(client: Client) -> None:
    """M-OBJECT: one row ⇒ the object itself; `application/vnd.pgrst.object` works too."""
    for accept in ("application/vnd.pgrst.object+json", "application/vnd.pgrst.object"):
        r = get(client, "/g_people?select=id,first_name&id=eq.1", Accept=accept)
        assert r.status_code == 200, accept
        assert r.headers["Content-Type"] == "application/vnd.pgrst.object+json; charset=utf-8"
        assert r.get_json() == {"id": 1, "first_name": "Ann"}


def test_singular_object_with_zero_rows_is_406(client: Client) -> None:
    """T-SINGULAR / E-PGRST116."""
    r = get(client, "/g_people?id=eq.999", Accept="application/vnd.pgrst.object+json")
    assert error(r, 406, "PGRST116") == {
        "code": "PGRST116",
        "message": "Cannot coerce the result to a single JSON object",
        "details": "The result contains 0 rows",
        "hint": None,
    }


def test_singular_object_with_many_rows_is_406(client: Client) -> None:
    r = get(client, "/g_people?id=lte.3", Accept="application/vnd.pgrst.object+json;nulls=stripped")
    assert error(r, 406, "PGRST116")["details"] == "The result contains 3 rows"


def test_object_with_nulls_stripped(client: Client) -> None:
    """M-OBJECT-STRIP."""
    r = get(client, "/g_people?select=id,age,active&id=eq.5", Accept="application/vnd.pgrst.object+json;nulls=stripped")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/vnd.pgrst.object+json;nulls=stripped; charset=utf-8"
    assert r.get_json() == {"id": 5, "age": 25}


def test_array_with_nulls_stripped(client: Client) -> None:
    """M-ARRAY-STRIP, also for the `application/vnd.pgrst.array` spelling."""
    for accept in ("application/vnd.pgrst.array+json;nulls=stripped", "application/vnd.pgrst.array;nulls=stripped"):
        r = get(client, "/g_people?select=id,age,active&id=in.(5,7)&order=id", Accept=accept)
        assert r.status_code == 200, accept
        assert r.headers["Content-Type"] == "application/vnd.pgrst.array+json;nulls=stripped; charset=utf-8"
        assert r.get_json() == [{"id": 5, "age": 25}, {"id": 7, "active": True}]


def test_array_vendor_type_without_stripping_is_plain_json(client: Client) -> None:
    """M-ARRAY-STRIP: without nulls=stripped ⇒ application/json, nulls kept."""
    r = get(client, "/g_people?select=id,age&id=eq.7", Accept="application/vnd.pgrst.array+json")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == JSON
    assert r.get_json() == [{"id": 7, "age": None}]


def test_csv_output_quotes_like_postgres_records(client: Client) -> None:
    """M-CSV: header from the keys, rows as record text without parens, NULL empty, no final newline."""
    r = get(client, "/g_csv?order=id", Accept="text/csv")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == CSV
    assert r.get_data(as_text=True) == (
        "id,name,note,flag,tags\n"
        '1,plain,,t,"{x,y}"\n'
        '2,"a,b","say ""hi""",f,{}\n'
        '3,"line1\nline2","",,\n'
        '4," padded ","back\\\\slash",t,"{""q r""}"'
    )


def test_csv_header_uses_selected_keys_and_aliases(client: Client) -> None:
    """M-CSV (QuerySpec "should respond with CSV to 'text/csv' request")."""
    r = get(client, "/g_csv?select=ident:id,name&id=lte.2&order=id.desc", Accept="text/csv")
    assert r.get_data(as_text=True) == 'ident,name\n2,"a,b"\n1,plain'


def test_csv_of_an_empty_result_is_a_lone_newline(client: Client) -> None:
    """M-CSV: the header is empty when there are no rows, then `\\n`, then nothing."""
    r = get(client, "/g_csv?id=gt.100", Accept="text/csv")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == CSV
    assert r.get_data(as_text=True) == "\n"


def test_unavailable_media_type_is_406_listing_the_accept_entries(client: Client) -> None:
    """M-406: entries listed in negotiation order (q, then specificity), parameters after q dropped."""
    r = get(client, "/g_people", Accept="text/plain;q=0.5, application/xml")
    assert error(r, 406, "PGRST107") == {
        "code": "PGRST107",
        "message": "None of these media types are available: application/xml, text/plain",
        "details": None,
        "hint": None,
    }
    r = get(client, "/g_people", Accept="text/xml")
    assert error(r, 406, "PGRST107")["message"] == "None of these media types are available: text/xml"


def test_plan_media_type_is_unavailable_when_plans_are_disabled(client: Client) -> None:
    """M-PLAN: without db-plan-enabled the plan type matches nothing; the message shows its full mime."""
    r = get(client, "/g_people", Accept="application/vnd.pgrst.plan")
    assert error(r, 406, "PGRST107")["message"] == (
        'None of these media types are available: application/vnd.pgrst.plan+text; for="application/json"'
    )


# --- HEAD, OPTIONS, other methods --------------------------------------------------------------


def test_head_has_the_get_headers_but_no_body(client: Client) -> None:
    """T-HEAD: same headers as GET, empty body, no Content-Length."""
    r = client.head("/g_people?select=id&id=lt.4&order=id")
    assert r.status_code == 200
    assert r.get_data() == b""
    assert r.headers["Content-Type"] == JSON
    assert r.headers["Content-Range"] == "0-2/*"
    assert r.headers["Content-Location"] == "/g_people?id=lt.4&order=id&select=id"
    assert "Content-Length" not in r.headers


def test_head_with_exact_count(client: Client) -> None:
    """T-HEAD / H-PREFER-COUNT."""
    r = client.head("/g_people?limit=2", headers={"Prefer": "count=exact"})
    assert r.status_code == 206
    assert r.headers["Content-Range"] == "0-1/20"
    assert r.headers["Preference-Applied"] == "count=exact"
    assert r.get_data() == b""


def test_head_ignores_the_range_header(client: Client) -> None:
    """Q-RANGE-HDR / AMB-HEAD-RANGE: only GET honours Range."""
    r = client.head("/g_people", headers={"Range": "0-1"})
    assert r.status_code == 200
    assert r.headers["Content-Range"] == "0-19/*"
    r = client.head("/g_people", headers={"Range": "5-2"})
    assert r.status_code == 200


def test_head_with_csv_accept_keeps_the_csv_content_type(client: Client) -> None:
    """T-HEAD: Content-Type still sent."""
    r = client.head("/g_csv", headers={"Accept": "text/csv"})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == CSV
    assert r.get_data() == b""


def test_options_lists_allowed_methods(client: Client) -> None:
    """T-OPTIONS / T-ALLOW: capability, not privileges; views per updatability; PUT needs a PK."""
    r = client.options("/g_people")
    assert r.status_code == 200
    assert r.get_data() == b""
    assert r.headers["Allow"] == "OPTIONS,GET,HEAD,POST,PUT,PATCH,DELETE"
    assert r.headers["Content-Length"] == "0"
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert client.options("/g_people_stats").headers["Allow"] == "OPTIONS,GET,HEAD"
    assert client.options("/g_nopk").headers["Allow"] == "OPTIONS,GET,HEAD,POST,PATCH,DELETE"


def test_unsupported_methods_are_405_pgrst117(client: Client) -> None:
    """T-OTHER-METHOD."""
    for method in ("TRACE", "CONNECT"):
        r = client.open("/g_people", method=method)
        assert error(r, 405, "PGRST117") == {
            "code": "PGRST117",
            "message": f"Unsupported HTTP method: {method}",
            "details": None,
            "hint": None,
        }
        assert r.headers["Proxy-Status"] == "PostgREST; error=PGRST117"
