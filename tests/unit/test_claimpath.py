"""jwt-role-claim-key paths: RFC 9535 JSONPath and the deprecated JSPath DSL (A-ROLE-PATH, A-ROLE-PATH-OLD)."""

from __future__ import annotations

from typing import Any

import pytest

from pgwsgi.auth.claimpath import compile_role_path

CLAIMS: dict[str, Any] = {
    "role": "web_user",
    "postgrest": {"roles": ["other", "author"]},
    "https://www.example.com/role": {"key": "author"},
    "groups": [{"name": "a", "level": 1}, {"name": "b", "level": 2}, {"name": "c", "level": 3, "admin": True}],
    "obj": {"zeta": "z", "alpha": "a", "mid": "m"},
    "flags": [True, 1, 1.0, "1", None],
    "a'b": "single",
    'a"b': "double",
    "é": "accent",
    "tab\tkey": "tab",
    "want": "b",
    "rx": "^o",
}


def find(path: str, claims: Any = CLAIMS) -> list[Any]:
    compiled = compile_role_path(path)
    assert not compiled.deprecated
    return compiled.find(claims)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.role", ["web_user"]),
        ("$", [CLAIMS]),
        ("$.missing", []),
        ("$.role.deeper", []),
        ("$.postgrest.roles[0]", ["other"]),
        ("$.postgrest.roles[1]", ["author"]),
        ("$.postgrest.roles[-1]", ["author"]),
        ("$.postgrest.roles[-3]", []),
        ("$.postgrest.roles[2]", []),
        ("$.postgrest['roles'][1]", ["author"]),
        ('$["postgrest"]["roles"][1]', ["author"]),
        ("$['https://www.example.com/role'].key", ["author"]),
        ("$['https://www.example.com/role']['key']", ["author"]),
        ("$.postgrest.roles[*]", ["other", "author"]),
        ("$.postgrest.roles.*", ["other", "author"]),
        ("$.postgrest.roles[0, 1, 0]", ["other", "author", "other"]),
        ("$.postgrest.roles[ 1 ]", ["author"]),
        ("$ .postgrest .roles[1]", ["author"]),
        ("$.postgrest.roles[1:]", ["author"]),
        ("$.postgrest.roles[::-1]", ["author", "other"]),
        ("$.postgrest.roles[:1]", ["other"]),
        ("$.postgrest.roles[::0]", []),
        ("$..roles[1]", ["author"]),
        ("$..key", ["author"]),
        ("$.obj.*", ["a", "m", "z"]),  # object members in key order, as PostgREST's JSON library yields them
        ("$['a\\'b']", ["single"]),
        ('$["a\\"b"]', ["double"]),
        ("$['a\"b']", ["double"]),
        ("$['\\u00e9']", ["accent"]),
        ("$.é", ["accent"]),
        ("$['tab\\tkey']", ["tab"]),
    ],
)
def test_selectors(path: str, expected: list[Any]) -> None:
    assert find(path) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.postgrest.roles[?(@ == 'author')]", ["author"]),
        ("$.postgrest.roles[?@ == 'author']", ["author"]),
        ('$.postgrest.roles[?@ == "author"]', ["author"]),
        ("$.postgrest.roles[?@ != 'other']", ["author"]),
        ("$.postgrest.roles[?search(@, '^au')]", ["author"]),
        ("$.postgrest.roles[?search(@, 'th')]", ["other", "author"]),
        ("$.postgrest.roles[?match(@, 'au')]", []),
        ("$.postgrest.roles[?match(@, 'auth.*')]", ["author"]),
        ("$.postgrest.roles[?!search(@, '^au')]", ["other"]),
        ("$.postgrest.roles[?search(@, $.rx)]", ["other"]),
        ("$.postgrest.roles[?search(@, '[')]", []),  # an invalid regex matches nothing
        ("$.postgrest.roles[?@ == 'author' || @ == 'other']", ["other", "author"]),
        ("$.groups[?@.level > 1].name", ["b", "c"]),
        ("$.groups[?@.level >= 2 && @.level < 3].name", ["b"]),
        ("$.groups[?@.level <= 1].name", ["a"]),
        ("$.groups[?@.admin].name", ["c"]),
        ("$.groups[?!@.admin].name", ["a", "b"]),
        ("$.groups[?!(@.level == 1 || @.admin)].name", ["b"]),
        ("$.groups[?@.name == $.want].level", [2]),
        ("$.groups[?@['name'] == 'a'].level", [1]),
        ("$.groups[?@.missing == $.missing].name", ["a", "b", "c"]),  # two empty node lists are equal
        ("$.groups[?@.level == 2.0].name", ["b"]),
        ("$.flags[?@ == 1]", [1, 1.0]),  # true is not the number 1
        ("$.flags[?@ == true]", [True]),
        ("$.flags[?@ == null]", [None]),
        ("$.flags[?@ > 0]", [1, 1.0]),
        ("$.obj[?@ != 'm']", ["a", "z"]),
        ("$..[?@ == 'author']", ["author", "author"]),
    ],
)
def test_filters(path: str, expected: list[Any]) -> None:
    assert find(path) == expected


@pytest.mark.parametrize(
    "path",
    [
        "",
        "role",
        "$.",
        "$.role ",
        " $.role",
        "$.role-name",
        "$[01]",
        "$[-0]",
        "$[9007199254740992]",
        "$.a[?foo(@)]",
        "$.a[?(@ == 'x']",
        "$.a[?@ === 'x']",
        "$['unterminated]",
        "$['bad\\q']",
        "$.1abc",
        '.a[?(@ == "x")].b',
        ".a[?(@ == 'x')]",
        "..a",
        ".a[-1]",
        '."unterminated',
        '.a[?(@ ~= "x")]',
    ],
)
def test_unparseable_paths(path: str) -> None:
    with pytest.raises(ValueError, match=r"failed to parse role-claim-key value"):
        compile_role_path(path)


def test_error_message_names_the_jsonpath_problem() -> None:
    with pytest.raises(ValueError, match=r"\(\$\.role \): unexpected input at position 6"):
        compile_role_path("$.role ")


@pytest.mark.parametrize(
    ("path", "canonical", "expected"),
    [
        (".role", '."role"', ["web_user"]),
        (".postgrest.roles[1]", '."postgrest"."roles"[1]', ["author"]),
        ('."https://www.example.com/role".key', '."https://www.example.com/role"."key"', ["author"]),
        ('.postgrest.roles[?(@ == "author")]', '."postgrest"."roles"[?(@ == "author")]', ["author"]),
        ('.postgrest.roles[?(@ != "other")]', '."postgrest"."roles"[?(@ != "other")]', ["author"]),
        ('.postgrest.roles[?(@ ^== "au")]', '."postgrest"."roles"[?(@ ^== "au")]', ["author"]),
        ('.postgrest.roles[?(@ ==^ "er")]', '."postgrest"."roles"[?(@ ==^ "er")]', ["other"]),
        ('.postgrest.roles[?(@ *== "th")]', '."postgrest"."roles"[?(@ *== "th")]', ["other"]),
        ('.postgrest.roles[?(@==^"or")]', '."postgrest"."roles"[?(@ ==^ "or")]', ["author"]),
        ('.postgrest.roles[?(@ == "nobody")]', '."postgrest"."roles"[?(@ == "nobody")]', []),
        (".postgrest.roles[5]", '."postgrest"."roles"[5]', []),
        (".role[0]", '."role"[0]', []),
        ('.flags[?(@ == "1")]', '."flags"[?(@ == "1")]', ["1"]),
    ],
)
def test_deprecated_syntax(path: str, canonical: str, expected: list[Any]) -> None:
    compiled = compile_role_path(path)
    assert compiled.deprecated
    assert compiled.canonical == canonical
    assert compiled.find(CLAIMS) == expected


def test_first_distinguishes_json_null_from_nothing() -> None:
    missing = object()
    path = compile_role_path("$.role")
    assert path.first({"role": "x"}) == "x"
    assert path.first({"role": None}, missing) is None
    assert path.first({}, missing) is missing
    assert path.first({}) is None
    assert compile_role_path("$.a[*]").first({"a": ["x", "y"]}) == "x"


def test_paths_on_non_object_claims() -> None:
    for path in ("$.role", "$[0]", "$[*]", ".role", "[0]"):
        assert compile_role_path(path).find("scalar") == []


# Edge cases where an off-the-shelf RFC 9535 library (jsonpath-rfc9535 1.0.1) answers
# differently; pinned so a future swap of the JSONPath engine cannot change them silently.


def test_nested_json_equality_keeps_booleans_and_numbers_apart() -> None:
    claims = {"n": [[1], [True], {"k": 1}, {"k": True}], "one": [1], "obj": {"k": 1}}
    assert find("$.n[?@ == $.one]", claims) == [[1]]
    assert find("$.n[?@ == $.obj]", claims) == [{"k": 1}]


def test_descendants_follow_sorted_keys_depth_first() -> None:
    assert find("$..*", {"b": {"y": 1, "x": 2}, "a": [3]}) == [[3], {"y": 1, "x": 2}, 3, 2, 1]


def test_descendant_segment_reaches_deeply_nested_claims() -> None:
    claims: dict[str, Any] = {"role": "bottom"}
    for _ in range(150):
        claims = {"d": claims}
    assert find("$..role", claims) == ["bottom"]


@pytest.mark.parametrize(
    "path",
    [
        "$.a[?length(@) > 1]",  # only search() and match() are supported
        "$.a[?count(@.*) > 0]",
        "$.a[?value(@) == 'x']",
        "$.a[?!true]",  # a literal is not a test expression
        "$.a[?! @ == 'x']",  # a comparison cannot be negated without parentheses
    ],
)
def test_unsupported_filter_forms_are_refused(path: str) -> None:
    with pytest.raises(ValueError, match=r"failed to parse role-claim-key value"):
        compile_role_path(path)
