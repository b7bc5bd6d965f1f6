"""Reading a view's column origins from its stored query tree (catalog/viewkeys.py)."""

from __future__ import annotations

from pgwsgi.catalog.viewkeys import KeyConstraint, ViewSource, key_dependencies, top_level_origins

# A cut-down pg_node_tree: a subquery in the WHERE clause has a target list of its own,
# and names escape braces, spaces and commas with a backslash.
TREE = (
    r'({QUERY :commandType 1 :rtable ({RANGETBLENTRY :eref {ALIAS :aliasname a :colnames ("we,ird\ \{x\}")}'
    r" :relid 5}) :jointree {FROMEXPR :fromlist <> :quals {SUBLINK :subselect {QUERY :targetList"
    r" ({TARGETENTRY :resno 1 :resorigtbl 99 :resorigcol 9 :resjunk false}) :override 0}}}"
    r" :targetList ({TARGETENTRY :expr {VAR :varno 1} :resno 1 :resname we,ird\ \}\ :resno\ 7"
    r" :ressortgroupref 0 :resorigtbl 5 :resorigcol 2 :resjunk false}"
    r" {TARGETENTRY :expr {CONST :constvalue 4 [ 1 0 0 0 ]} :resno 2 :resname one :resorigtbl 0"
    r" :resorigcol 0 :resjunk false}) :override 0})"
)


def test_only_the_outer_target_list_counts() -> None:
    assert top_level_origins(TREE) == {1: (5, 2)}


def test_a_tree_without_target_list_has_no_origins() -> None:
    assert top_level_origins("({QUERY :commandType 1 :targetList <> :override 0})") == {}
    assert top_level_origins("") == {}


def _view(
    oid: int, name: str, origins: dict[int, tuple[int, int]], columns: list[str], exposed: bool = True
) -> ViewSource:
    entries = " ".join(
        f"{{TARGETENTRY :resno {n} :resorigtbl {t} :resorigcol {c} :resjunk false}}" for n, (t, c) in origins.items()
    )
    return ViewSource(oid, "api", name, exposed, f"({{QUERY :targetList ({entries}) :override 0}})", columns)


def test_keys_are_followed_through_views_and_need_every_column() -> None:
    pk = KeyConstraint("t_pkey", "p", 1, ("private", "t"), (1, 2), ("a", "b"))
    fk = KeyConstraint("t_c_fkey", "f", 1, ("private", "t"), (3,), ("c",))
    inner = _view(10, "inner", {1: (1, 1), 2: (1, 2), 3: (1, 3)}, ["x", "y", "z"], exposed=False)
    outer = _view(11, "outer", {1: (10, 1), 2: (10, 2), 3: (10, 3), 4: (10, 3)}, ["k1", "k2", "c1", "c2"])
    partial = _view(12, "partial", {1: (1, 1)}, ["only_a"])
    deps = key_dependencies([inner, outer, partial], [pk, fk])
    assert [(d.view, d.constraint, d.kind, d.columns) for d in deps] == [
        (("api", "outer"), "t_pkey", "p", (("a", ("k1",)), ("b", ("k2",)))),
        (("api", "outer"), "t_c_fkey", "f", (("c", ("c1", "c2")),)),
    ]
    assert list(deps[1].mappings()) == [{"c": "c1"}, {"c": "c2"}]
