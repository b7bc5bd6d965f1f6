"""plan/embed.py: which relationship an embed names (EMB-TARGET, EMB-HINT), PGRST200 and PGRST201."""

from __future__ import annotations

import dataclasses

import pytest

from pgwsgi.api.model import SelectRelation
from pgwsgi.catalog.model import CatalogSnapshot, ForeignKey, Junction, Relationship
from pgwsgi.catalog.relationships import build_relationships
from pgwsgi.errors import ApiError
from pgwsgi.plan.embed import resolve_relationship
from tests.unit.snapshot import (
    BIG_PROJECTS,
    CATALOG,
    CLIENTS,
    PROJECTS,
    TASKS,
    USERS,
    column,
    fields,
    foreign_key,
    relation,
    relationship,
    snapshot,
)


def resolve(
    origin: str, name: str, hint: str | None = None, catalog: CatalogSnapshot = CATALOG, schema: str = "api"
) -> tuple[Relationship, str]:
    rel = catalog.relation("api", origin)
    assert rel is not None
    found, target = resolve_relationship(catalog, rel, SelectRelation(name, hint=hint), schema)
    return found, target.name


def refused(
    origin: str, name: str, hint: str | None = None, catalog: CatalogSnapshot = CATALOG, schema: str = "api"
) -> tuple[object, ...]:
    with pytest.raises(ApiError) as info:
        resolve(origin, name, hint, catalog, schema)
    return fields(info.value)


def test_a_table_name_embeds_the_many_to_one_parent() -> None:
    assert resolve("projects", "clients") == (
        relationship("projects", "clients", "many-to-one", "projects_client_id_fkey", ("client_id",), ("id",)),
        "clients",
    )


def test_a_table_name_embeds_the_one_to_many_children() -> None:
    assert resolve("clients", "projects") == (
        dataclasses.replace(
            relationship("clients", "projects", "one-to-many", "projects_client_id_fkey", ("id",), ("client_id",)),
            inverse=True,
        ),
        "projects",
    )


def test_the_target_returned_is_the_catalog_relation() -> None:
    rel, _ = resolve("projects", "clients")
    found, target = resolve_relationship(CATALOG, PROJECTS, SelectRelation("clients"), "api")
    assert (found, target) == (rel, CLIENTS)


def test_a_unique_foreign_key_is_one_to_one_both_ways() -> None:
    assert resolve("users", "profiles")[0].cardinality == "one-to-one"
    assert resolve("profiles", "users")[0].cardinality == "one-to-one"


def test_a_junction_gives_many_to_many() -> None:
    assert resolve("users", "tasks") == (
        relationship(
            "users",
            "tasks",
            "many-to-many",
            "users_tasks",
            ("id",),
            ("id",),
            junction=Junction(
                ("api", "users_tasks"),
                "users_tasks_user_id_fkey",
                ("user_id",),
                "users_tasks_task_id_fkey",
                ("task_id",),
            ),
        ),
        "tasks",
    )


def test_a_many_to_many_hint_is_the_junction_name() -> None:
    assert resolve("users", "tasks", "users_tasks")[0].cardinality == "many-to-many"


@pytest.mark.parametrize("name", ["client_id", "projects_client_id_fkey"])
def test_the_foreign_key_column_or_name_still_embeds_the_parent(name: str) -> None:
    # Deprecated PostgREST forms, kept for tables.
    rel, target = resolve("projects", name)
    assert (rel.constraint, target) == ("projects_client_id_fkey", "clients")


@pytest.mark.parametrize(
    ("hint", "constraint"),
    [
        ("sender", "messages_sender_fkey"),
        ("messages_recipient_fkey", "messages_recipient_fkey"),
        ("recipient", "messages_recipient_fkey"),
    ],
)
def test_a_hint_picks_one_of_several_foreign_keys(hint: str, constraint: str) -> None:
    assert resolve("messages", "users", hint)[0].constraint == constraint


def test_two_foreign_keys_to_one_table_are_300_pgrst201() -> None:
    assert refused("messages", "users") == (
        300,
        "PGRST201",
        "Could not embed because more than one relationship was found for 'messages' and 'users'",
        [
            {
                "cardinality": "many-to-one",
                "embedding": "messages with users",
                "relationship": "messages_recipient_fkey using messages(recipient) and users(id)",
            },
            {
                "cardinality": "many-to-one",
                "embedding": "messages with users",
                "relationship": "messages_sender_fkey using messages(sender) and users(id)",
            },
        ],
        "Try changing 'users' to one of the following: 'users!messages_recipient_fkey', "
        "'users!messages_sender_fkey'. Find the desired relationship in the 'details' key.",
    )


def test_a_hint_matching_both_foreign_keys_is_still_ambiguous() -> None:
    # `id` is the referenced column of both.
    assert refused("messages", "users", "id")[:2] == (300, "PGRST201")


def test_circular_foreign_keys_list_the_one_to_many_first() -> None:
    departments = relation("departments", column("id", "integer"), column("name"), column("head_id", "integer"))
    agents = relation("agents", column("id", "integer"), column("name"), column("department_id", "integer"))
    catalog = snapshot(
        departments,
        agents,
        foreign_keys=(
            foreign_key("agents_department_id_fkey", "agents", ("department_id",), "departments"),
            foreign_key("departments_head_id_fkey", "departments", ("head_id",), "agents"),
        ),
    )
    err = refused("agents", "departments", catalog=catalog)
    assert err[3] == [
        {
            "cardinality": "one-to-many",
            "embedding": "agents with departments",
            "relationship": "departments_head_id_fkey using agents(id) and departments(head_id)",
        },
        {
            "cardinality": "many-to-one",
            "embedding": "agents with departments",
            "relationship": "agents_department_id_fkey using agents(department_id) and departments(id)",
        },
    ]
    assert err[4] == (
        "Try changing 'departments' to one of the following: 'departments!departments_head_id_fkey', "
        "'departments!agents_department_id_fkey'. Find the desired relationship in the 'details' key."
    )


def test_two_junctions_are_ambiguous_and_described_by_their_foreign_keys() -> None:
    assignments = relation(
        "assignments", column("user_id", "integer"), column("task_id", "integer"), pk=("user_id", "task_id")
    )
    reviews = relation("reviews", column("user_id", "integer"), column("task_id", "integer"), pk=("user_id", "task_id"))
    catalog = snapshot(
        USERS,
        TASKS,
        assignments,
        reviews,
        foreign_keys=(
            foreign_key("assignments_user_fkey", "assignments", ("user_id",), "users"),
            foreign_key("assignments_task_fkey", "assignments", ("task_id",), "tasks"),
            foreign_key("reviews_user_fkey", "reviews", ("user_id",), "users"),
            foreign_key("reviews_task_fkey", "reviews", ("task_id",), "tasks"),
        ),
    )
    err = refused("users", "tasks", catalog=catalog)
    assert err[3] == [
        {
            "cardinality": "many-to-many",
            "embedding": "users with tasks",
            "relationship": "assignments using assignments_user_fkey(user_id) and assignments_task_fkey(task_id)",
        },
        {
            "cardinality": "many-to-many",
            "embedding": "users with tasks",
            "relationship": "reviews using reviews_user_fkey(user_id) and reviews_task_fkey(task_id)",
        },
    ]
    assert err[4] == (
        "Try changing 'tasks' to one of the following: 'tasks!assignments', 'tasks!reviews'. "
        "Find the desired relationship in the 'details' key."
    )
    assert resolve("users", "tasks", "reviews", catalog=catalog)[0].constraint == "reviews"


def test_a_self_reference_embeds_children_by_table_name_and_the_parent_by_column() -> None:
    children, _ = resolve("people", "people")
    parent, _ = resolve("people", "boss_id")
    assert (children.cardinality, children.target_columns) == ("one-to-many", ("boss_id",))
    assert (parent.cardinality, parent.origin_columns) == ("many-to-one", ("boss_id",))
    assert resolve("people", "people", "boss_id")[0] == children


def test_a_computed_relationship_is_named_by_its_function() -> None:
    rel, target = resolve("clients", "big_projects")
    assert (rel.cardinality, rel.function, target) == ("one-to-many", ("api", "big_projects"), "projects")


def test_no_relationship_is_pgrst200_with_a_close_target_as_hint() -> None:
    assert refused("clients", "projectz") == (
        400,
        "PGRST200",
        "Could not find a relationship between 'clients' and 'projectz' in the schema cache",
        "Searched for a foreign key relationship between 'clients' and 'projectz' in the schema 'api', "
        "but no matches were found.",
        "Perhaps you meant 'projects' instead of 'projectz'.",
    )


def test_no_relationship_with_a_hint_says_so_in_the_details() -> None:
    assert refused("users", "tasks", "nope") == (
        400,
        "PGRST200",
        "Could not find a relationship between 'users' and 'tasks' in the schema cache",
        "Searched for a foreign key relationship between 'users' and 'tasks' using the hint 'nope' in the schema "
        "'api', but no matches were found.",
        None,
    )


def test_a_parent_without_relationships_gets_a_close_parent_as_hint() -> None:
    assert refused("items", "projects")[4] == "Perhaps you meant 'users' instead of 'items'."


def test_nothing_close_means_no_hint() -> None:
    assert refused("clients", "zzzzzz")[4] is None


def test_only_targets_in_the_request_schema_count() -> None:
    assert refused("projects", "clients", schema="other") == (
        400,
        "PGRST200",
        "Could not find a relationship between 'projects' and 'clients' in the schema cache",
        "Searched for a foreign key relationship between 'projects' and 'clients' in the schema 'other', "
        "but no matches were found.",
        None,
    )


def test_a_view_is_not_embedded_by_foreign_key_column_name() -> None:
    view = relation("clients_v", column("id", "integer"), column("name"), kind="v")
    rel = relationship("projects", "clients_v", "many-to-one", "projects_client_id_fkey", ("client_id",), ("id",))
    catalog = snapshot(PROJECTS, view, relationships={("api", "projects"): (rel,)})
    assert resolve("projects", "clients_v", catalog=catalog)[0] == rel
    assert refused("projects", "client_id", catalog=catalog)[1] == "PGRST200"


def test_a_computed_relationship_overrides_only_the_relationships_to_the_relation_it_names() -> None:
    # PostgREST keys detected relationships by their target and computed ones by their function,
    # the function winning: `projects(clients)` replaces the foreign key's, big_projects stays.
    named_like_the_table = dataclasses.replace(BIG_PROJECTS, name="projects")
    catalog = snapshot(
        CLIENTS,
        PROJECTS,
        functions=(BIG_PROJECTS, named_like_the_table),
        foreign_keys=(foreign_key("projects_client_id_fkey", "projects", ("client_id",), "clients"),),
    )
    assert resolve("clients", "projects", catalog=catalog)[0].function == ("api", "projects")
    assert resolve("clients", "big_projects", catalog=catalog)[0].function == ("api", "big_projects")
    assert resolve("projects", "clients", catalog=catalog)[0].constraint == "projects_client_id_fkey"


def test_a_junction_in_an_internal_schema_gives_no_many_to_many_and_no_hint() -> None:
    # As PostgREST (EmbedDisambiguationSpec): the many-to-many exists until internal objects are
    # removed, so end_1 "has relationships" and the PGRST200 hint suggests nothing, where a
    # parent without any would get a close parent (end_10) as hint.
    end_1 = relation("end_1", column("id", "integer"), column("name"))
    end_2 = relation("end_2", column("id", "integer"), column("name"))
    end_10 = relation("end_10", column("id", "integer"), column("end_2_id", "integer"))
    fks = (
        ForeignKey("junction_end_1_id_fkey", "private", "junction", ("end_1_id",), "api", "end_1", ("id",)),
        ForeignKey("junction_end_2_id_fkey", "private", "junction", ("end_2_id",), "api", "end_2", ("id",)),
        foreign_key("end_10_end_2_id_fkey", "end_10", ("end_2_id",), "end_2"),
    )
    relations = {("api", r.name): r for r in (end_1, end_2, end_10)}
    keys = {("private", "junction"): ("end_1_id", "end_2_id")}
    catalog = snapshot(end_1, end_2, end_10, relationships=build_relationships(fks, relations, table_keys=keys))
    assert refused("end_1", "end_2", catalog=catalog) == (
        400,
        "PGRST200",
        "Could not find a relationship between 'end_1' and 'end_2' in the schema cache",
        "Searched for a foreign key relationship between 'end_1' and 'end_2' in the schema 'api', "
        "but no matches were found.",
        None,
    )
    without_the_junction = snapshot(end_1, end_2, end_10, relationships=build_relationships(fks, relations))
    assert (
        refused("end_1", "end_2", catalog=without_the_junction)[4] == "Perhaps you meant 'end_10' instead of 'end_1'."
    )
