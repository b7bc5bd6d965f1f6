"""Resource embedding (§6): relationships from foreign keys, shaping, filters and errors."""

from __future__ import annotations

from werkzeug.test import Client

from tests.conftest import rows


def test_many_to_one_is_an_object_or_null(client: Client) -> None:
    assert rows(client, "/e_projects?select=name,e_clients(name)&id=in.(1,5)&order=id") == [
        {"name": "Windows 7", "e_clients": {"name": "Microsoft"}},
        {"name": "Orphan", "e_clients": None},
    ]


def test_one_to_many_is_an_array_or_empty(client: Client) -> None:
    assert rows(client, "/e_clients?select=name,e_projects(name)&order=id&e_projects.order=id") == [
        {"name": "Microsoft", "e_projects": [{"name": "Windows 7"}, {"name": "Windows 10"}]},
        {"name": "Apple", "e_projects": [{"name": "IOS"}, {"name": "OSX"}]},
        {"name": "Nobody", "e_projects": []},
    ]


def test_nested_embeds_with_alias(client: Client) -> None:
    got = rows(
        client,
        "/e_clients?select=name,work:e_projects(name,e_tasks(name))&id=eq.2"
        "&work.order=id&work.e_tasks.order=id&work.e_tasks.limit=1",
    )
    assert got == [
        {
            "name": "Apple",
            "work": [
                {"name": "IOS", "e_tasks": [{"name": "Design IOS"}]},
                {"name": "OSX", "e_tasks": [{"name": "Design OSX"}]},
            ],
        }
    ]


def test_many_to_many_through_a_junction(client: Client) -> None:
    got = rows(client, "/e_users?select=name,e_tasks(name)&id=eq.1&e_tasks.order=id")
    assert got == [{"name": "Angela", "e_tasks": [{"name": "Design w7"}, {"name": "Code w7"}, {"name": "Design w10"}]}]


def test_one_to_one_is_an_object(client: Client) -> None:
    assert rows(client, "/e_users?select=name,e_profiles(bio)&order=id&limit=2") == [
        {"name": "Angela", "e_profiles": {"bio": "Accountant"}},
        {"name": "Michael", "e_profiles": None},
    ]


def test_embedded_filters_restrict_only_the_embed(client: Client) -> None:
    got = rows(client, "/e_clients?select=id,e_projects(id)&order=id&e_projects.id=gt.1&e_projects.order=id")
    assert got == [
        {"id": 1, "e_projects": [{"id": 2}]},
        {"id": 2, "e_projects": [{"id": 3}, {"id": 4}]},
        {"id": 3, "e_projects": []},
    ]


def test_inner_join_drops_parents_without_related_rows(client: Client) -> None:
    got = rows(client, "/e_clients?select=id,e_projects!inner(id)&e_projects.name=eq.IOS")
    assert got == [{"id": 2, "e_projects": [{"id": 3}]}]


def test_empty_embed_filters_without_output(client: Client) -> None:
    got = rows(client, "/e_projects?select=name,e_clients!inner()&e_clients.name=eq.Apple&order=id")
    assert got == [{"name": "IOS"}, {"name": "OSX"}]


def test_hint_disambiguates_two_foreign_keys(client: Client) -> None:
    got = rows(client, "/e_messages?select=body,from:e_users!e_messages_sender_fkey(name)&id=eq.1")
    assert got == [{"body": "hi", "from": {"name": "Angela"}}]
    got = rows(client, "/e_messages?select=body,to:e_users!recipient(name)&id=eq.1")
    assert got == [{"body": "hi", "to": {"name": "Michael"}}]


def test_ambiguous_embed_is_pgrst201(client: Client) -> None:
    r = client.get("/e_messages?select=body,e_users(name)")
    assert r.status_code == 300
    body = r.get_json()
    assert body["code"] == "PGRST201"
    assert body["message"] == (
        "Could not embed because more than one relationship was found for 'e_messages' and 'e_users'"
    )
    assert body["details"] == [
        {
            "cardinality": "many-to-one",
            "embedding": "e_messages with e_users",
            "relationship": "e_messages_recipient_fkey using e_messages(recipient) and e_users(id)",
        },
        {
            "cardinality": "many-to-one",
            "embedding": "e_messages with e_users",
            "relationship": "e_messages_sender_fkey using e_messages(sender) and e_users(id)",
        },
    ]
    assert body["hint"] == (
        "Try changing 'e_users' to one of the following: 'e_users!e_messages_recipient_fkey', "
        "'e_users!e_messages_sender_fkey'. Find the desired relationship in the 'details' key."
    )


def test_unknown_relationship_is_pgrst200(client: Client) -> None:
    r = client.get("/e_clients?select=name,e_nothing(*)")
    assert r.status_code == 400
    assert r.get_json() == {
        "code": "PGRST200",
        "message": "Could not find a relationship between 'e_clients' and 'e_nothing' in the schema cache",
        "details": "Searched for a foreign key relationship between 'e_clients' and 'e_nothing' in the schema "
        "'test', but no matches were found.",
        "hint": None,
    }


def test_filter_on_a_resource_not_embedded_is_pgrst108(client: Client) -> None:
    r = client.get("/e_clients?select=name&e_projects.id=eq.1")
    assert r.status_code == 400
    assert r.get_json() == {
        "code": "PGRST108",
        "message": "'e_projects' is not an embedded resource in this request",
        "details": None,
        "hint": "Verify that 'e_projects' is included in the 'select' query parameter.",
    }


def test_self_reference_both_ways(client: Client) -> None:
    # As PostgREST's family_tree example: the FK column names the parent, the table
    # name (with the FK column as hint) the children (EMB-SELF).
    got = rows(client, "/e_people?select=name,boss_id(name),team:e_people!boss_id(name)&id=eq.2")
    assert got == [{"name": "Mid", "boss_id": {"name": "Boss"}, "team": [{"name": "Low"}]}]
    got = rows(client, "/e_people?select=name,boss:boss_id(name),e_people(name)&id=eq.3")
    assert got == [{"name": "Low", "boss": {"name": "Mid"}, "e_people": []}]


def test_max_rows_caps_each_embed(make_client) -> None:  # noqa: ANN001
    client = make_client(db_max_rows=1)
    assert rows(client, "/e_clients?select=id,e_projects(id)&e_projects.order=id") == [
        {"id": 1, "e_projects": [{"id": 1}]}
    ]


def test_exact_count_respects_inner_embeds(client: Client) -> None:
    r = client.get(
        "/e_clients?select=id,e_projects!inner(id)&e_projects.name=like.Windows*&e_projects.order=id&limit=5",
        headers={"Prefer": "count=exact"},
    )
    assert r.status_code == 200
    assert r.get_json() == [{"id": 1, "e_projects": [{"id": 1}, {"id": 2}]}]
    assert r.headers["Content-Range"] == "0-0/1"


def test_null_filter_on_an_embed_selects_parents_without_or_with_rows(client: Client) -> None:
    assert rows(client, "/e_clients?select=id,e_projects(id)&e_projects=is.null") == [{"id": 3, "e_projects": []}]
    assert rows(client, "/e_clients?select=id,e_projects()&e_projects=not.is.null&order=id") == [{"id": 1}, {"id": 2}]
    got = rows(client, "/e_clients?select=id,e_projects()&or=(e_projects.is.null,id.eq.1)&order=id")
    assert got == [{"id": 1}, {"id": 3}]


def test_null_filter_respects_the_embeds_filters(client: Client) -> None:
    got = rows(client, "/e_clients?select=id,e_projects()&e_projects.name=eq.IOS&e_projects=not.is.null")
    assert got == [{"id": 2}]


def test_spread_of_a_to_one_embed_lifts_its_columns(client: Client) -> None:
    got = rows(client, "/e_projects?select=name,...e_clients(client:name)&id=in.(1,5)&order=id")
    assert got == [{"name": "Windows 7", "client": "Microsoft"}, {"name": "Orphan", "client": None}]


def test_spread_of_a_to_many_embed_gives_arrays(client: Client) -> None:
    got = rows(client, "/e_clients?select=name,...e_projects(project:name,id)&id=eq.1&e_projects.order=id")
    assert got == [{"name": "Microsoft", "project": ["Windows 7", "Windows 10"], "id": [1, 2]}]


def test_nested_spreads(client: Client) -> None:
    got = rows(client, "/e_tasks?select=name,...e_projects(project:name,...e_clients(client:name))&id=eq.1")
    assert got == [{"name": "Design w7", "project": "Windows 7", "client": "Microsoft"}]


def test_one_to_one_through_a_unique_foreign_key(client: Client) -> None:
    assert rows(client, "/e_users?select=name,e_passports(number)&id=in.(1,2)&order=id") == [
        {"name": "Angela", "e_passports": None},
        {"name": "Michael", "e_passports": {"number": "P-1"}},
    ]
    assert rows(client, "/e_passports?select=number,e_users(name)") == [
        {"number": "P-1", "e_users": {"name": "Michael"}}
    ]


def test_related_order_by_a_to_one_embed(client: Client) -> None:
    got = rows(client, "/e_projects?select=id,e_clients(name)&client_id=not.is.null&order=e_clients(name).desc,id")
    assert [p["id"] for p in got] == [1, 2, 3, 4]  # Microsoft before Apple
    got = rows(client, "/e_projects?select=id,e_clients(name)&order=e_clients(name).asc.nullsfirst,id")
    assert [p["id"] for p in got] == [5, 3, 4, 1, 2]


def test_related_order_on_a_to_many_embed_is_pgrst118(client: Client) -> None:
    r = client.get("/e_clients?select=id,e_projects(id)&order=e_projects(id)")
    assert r.status_code == 400
    assert r.get_json() == {
        "code": "PGRST118",
        "message": "A related order on 'e_projects' is not possible",
        "details": "'e_clients' and 'e_projects' do not form a many-to-one or one-to-one relationship",
        "hint": None,
    }


def test_computed_relationships(client: Client) -> None:
    got = rows(client, "/e_clients?select=id,big_projects(name)&id=in.(1,2)&order=id&big_projects.order=id")
    assert got == [
        {"id": 1, "big_projects": [{"name": "Windows 7"}, {"name": "Windows 10"}]},
        {"id": 2, "big_projects": []},
    ]
    got = rows(client, "/e_projects?select=id,owner_client(name)&id=in.(3,5)&order=id")
    # A non-SETOF SQL function that finds nothing still returns one row, of NULLs.
    assert got == [{"id": 3, "owner_client": {"name": "Apple"}}, {"id": 5, "owner_client": {"name": None}}]
    got = rows(client, "/e_clients?select=id,big_projects!inner()&order=id")
    assert got == [{"id": 1}]


def test_aliased_embed_by_relation_name_warns(client: Client) -> None:
    r = client.get("/e_clients?select=id,work:e_projects(id)&id=eq.1&e_projects.order=id.desc")
    assert r.status_code == 200
    assert r.get_json() == [{"id": 1, "work": [{"id": 2}, {"id": 1}]}]
    assert r.headers["Warning"] == (
        '299 PostgRESTv16.1 "Embedded resource was referenced by relation name even though it has an alias. '
        "This is deprecated and will stop working in a future release. Update `e_projects` to `work` in query "
        'string filters, orders or limits."'
    )


def test_aliased_embed_by_relation_name_refused_without_legacy_names(make_client) -> None:  # noqa: ANN001
    client = make_client(url_use_legacy_target_names=False)
    r = client.get("/e_clients?select=id,work:e_projects(id)&e_projects.order=id.desc")
    assert r.status_code == 400
    assert r.get_json() == {
        "code": "PGRST108",
        "message": "'e_projects' is not an embedded resource in this request",
        "details": "Target names are not allowed in filters if they have an alias",
        "hint": "Change 'e_projects' to 'work' in filters, orders or limits.",
    }


def test_aggregates_need_to_be_enabled(client: Client) -> None:
    r = client.get("/items?select=price.sum()")
    assert (r.status_code, r.get_json()["code"]) == (400, "PGRST123")


def test_aggregates_group_by_the_other_columns(make_client) -> None:  # noqa: ANN001
    client = make_client(db_aggregates_enabled=True)
    assert rows(client, "/items?select=price.sum(),count()&id=lte.4") == [{"sum": 15.00, "count": 4}]
    got = rows(
        client, "/e_projects?select=client_id,n:count(),top:id.max()::text&client_id=not.is.null&order=client_id"
    )
    assert got == [{"client_id": 1, "n": 2, "top": "2"}, {"client_id": 2, "n": 2, "top": "4"}]
    assert rows(client, "/items?select=price::int.avg()::text&id=lte.2") == [{"avg": "2.5000000000000000"}]


def test_composite_foreign_key(client: Client) -> None:
    assert rows(client, "/e_visits?select=id,e_sites(label)&order=id") == [
        {"id": 1, "e_sites": {"label": "Paris"}},
        {"id": 2, "e_sites": {"label": "Boston"}},
        {"id": 3, "e_sites": {"label": "Paris"}},
    ]
    assert rows(client, "/e_sites?select=label,e_visits(id)&region=eq.eu&e_visits.order=id") == [
        {"label": "Paris", "e_visits": [{"id": 1}, {"id": 3}]}
    ]


def test_view_over_a_view_keeps_the_relationships(client: Client) -> None:
    got = rows(client, "/e_projects_v2?select=name,e_clients(name)&id=eq.3")
    assert got == [{"name": "IOS", "e_clients": {"name": "Apple"}}]
    got = rows(client, "/e_clients?select=name,e_projects_v2(id)&id=eq.1&e_projects_v2.order=id")
    assert got == [{"name": "Microsoft", "e_projects_v2": [{"id": 1}, {"id": 2}]}]


def test_aggregates_inside_an_embed_group_per_parent(make_client) -> None:  # noqa: ANN001
    client = make_client(db_aggregates_enabled=True)
    got = rows(client, "/e_clients?select=name,e_projects(count())&order=id")
    assert got == [
        {"name": "Microsoft", "e_projects": [{"count": 2}]},
        {"name": "Apple", "e_projects": [{"count": 2}]},
        {"name": "Nobody", "e_projects": [{"count": 0}]},
    ]
    r = client.get("/e_clients?select=name,...e_projects(count())")
    assert r.status_code == 400
    assert r.get_json()["details"] == "Aggregates are not implemented for one-to-many or many-to-many spreads."


def test_partitioned_tables_embed_and_partitions_stay_hidden(client: Client) -> None:
    got = rows(client, "/e_clients?select=id,e_events(id)&id=in.(1,2)&order=id&e_events.order=id")
    assert got == [{"id": 1, "e_events": [{"id": 1}, {"id": 2}]}, {"id": 2, "e_events": [{"id": 3}]}]
    assert rows(client, "/e_events?select=id,e_clients(name)&id=eq.3") == [{"id": 3, "e_clients": {"name": "Apple"}}]
    assert client.get("/e_events_2024").status_code == 404


def _sorted(got: object, key: str) -> list:
    assert isinstance(got, list)
    return sorted(got, key=lambda row: (row[key] is None, row[key]))


def test_aggregates_beside_embeds_group_by_the_embeds_too(make_client) -> None:  # noqa: ANN001
    client = make_client(db_aggregates_enabled=True)
    got = rows(client, "/e_projects?select=client_id,count(),e_clients(name)")
    assert _sorted(got, "client_id") == [
        {"client_id": 1, "count": 2, "e_clients": {"name": "Microsoft"}},
        {"client_id": 2, "count": 2, "e_clients": {"name": "Apple"}},
        {"client_id": None, "count": 1, "e_clients": None},
    ]
    # `*` beside an aggregate is every column, each grouped by.
    got = rows(client, "/e_projects?select=*,count(),e_clients(name)&id=eq.1")
    assert got == [{"id": 1, "name": "Windows 7", "client_id": 1, "count": 1, "e_clients": {"name": "Microsoft"}}]


def test_aggregates_group_by_the_columns_of_a_to_one_spread(make_client) -> None:  # noqa: ANN001
    client = make_client(db_aggregates_enabled=True)
    got = rows(client, "/e_projects?select=id.sum(),...e_clients(name)")
    assert _sorted(got, "name") == [
        {"sum": 7, "name": "Apple"},
        {"sum": 3, "name": "Microsoft"},
        {"sum": 5, "name": None},
    ]


def test_aggregates_in_a_to_one_spread_apply_at_the_parent(make_client) -> None:  # noqa: ANN001
    # As PostgREST hoists them: the tasks are counted per client, not per project row.
    client = make_client(db_aggregates_enabled=True)
    got = rows(client, "/e_tasks?select=...e_projects(client_id,n:id.count())")
    assert _sorted(got, "client_id") == [{"client_id": 1, "n": 4}, {"client_id": 2, "n": 4}]
    got = rows(client, "/e_tasks?select=...e_projects(client_id,id.sum()::text,count())")
    assert _sorted(got, "client_id") == [
        {"client_id": 1, "sum": "6", "count": 4},
        {"client_id": 2, "sum": "14", "count": 4},
    ]
    # Through nested to-one spreads, up to the first level that is not one.
    got = rows(client, "/e_tasks?select=...e_projects(...e_clients(client:name),tasks:id.count())")
    assert _sorted(got, "client") == [{"client": "Apple", "tasks": 4}, {"client": "Microsoft", "tasks": 4}]


def test_embedded_objects_are_jsonb_as_in_postgrest(client: Client) -> None:
    # PostgREST builds embeds as jsonb: its key order and spacing, unlike the top level.
    r = client.get("/e_projects?select=name,e_clients(name,id)&id=eq.1")
    assert r.get_data(as_text=True) == '[{"name":"Windows 7","e_clients":{"id": 1, "name": "Microsoft"}}]'


def test_a_to_one_spread_keeps_duplicate_keys(client: Client) -> None:
    r = client.get("/e_projects?select=name,...e_clients(name)&id=eq.1")
    assert r.get_data(as_text=True) == '[{"name":"Windows 7","name":"Microsoft"}]'


def test_pgrst200_hints_a_close_target_or_a_close_origin(client: Client) -> None:
    # The origin has relationships: the closest of their targets (PostgREST's noRelBetweenHint).
    r = client.get("/e_clients?select=name,e_project(name)")
    assert r.status_code == 400
    assert r.get_json()["hint"] == "Perhaps you meant 'e_projects' instead of 'e_project'."
    # It has none: the closest origin that has some, at PostgREST's low bar for this hint.
    r = client.get("/items?select=e_clients(name)")
    assert r.get_json()["hint"] == "Perhaps you meant 'e_sites' instead of 'items'."


def test_deprecated_targets_name_the_foreign_key_on_either_side(client: Client) -> None:
    assert rows(client, "/e_projects?select=e_projects_client_id_fkey(name)&id=eq.1") == [
        {"e_projects_client_id_fkey": {"name": "Microsoft"}}
    ]
    assert rows(client, "/e_projects?select=client_id(name)&id=eq.1") == [{"client_id": {"name": "Microsoft"}}]
    # The one-to-many side too, as PostgREST's findRel; never a view (e_projects_v1/v2).
    got = rows(client, "/e_clients?select=e_projects_client_id_fkey(name)&id=eq.2")
    assert isinstance(got, list)
    assert sorted(p["name"] for p in got[0]["e_projects_client_id_fkey"]) == ["IOS", "OSX"]


def test_a_set_returning_function_declared_rows_1_is_to_one(client: Client) -> None:
    assert rows(client, "/e_clients?select=name,first_project(name)&id=in.(1,3)&order=id") == [
        {"name": "Microsoft", "first_project": {"name": "Windows 7"}},
        {"name": "Nobody", "first_project": None},
    ]


def test_a_function_returning_a_composite_type_is_no_relationship(client: Client) -> None:
    r = client.get("/e_clients?select=name,client_card(label)")
    assert r.status_code == 400
    assert r.get_json()["code"] == "PGRST200"
    assert rows(client, "/e_clients?select=client_card&id=eq.1") == [{"client_card": {"label": "#Microsoft"}}]


def test_spread_through_a_junction_lifts_the_far_side(client: Client) -> None:
    # EMB-SPREAD-JOIN: the junction embedded, its many-to-one spread.
    got = rows(client, "/e_users?select=name,e_users_tasks(...e_tasks(task:name))&id=eq.1&e_users_tasks.order=task_id")
    assert got == [
        {"name": "Angela", "e_users_tasks": [{"task": "Design w7"}, {"task": "Code w7"}, {"task": "Design w10"}]}
    ]


def test_inner_to_one_spread_drops_parents_without_a_row(client: Client) -> None:
    got = rows(client, "/e_projects?select=name,...e_clients!inner(client:name)&order=id")
    assert [p["name"] for p in got] == ["Windows 7", "Windows 10", "IOS", "OSX"]
    r = client.get("/e_projects?select=id,...e_clients(*)&id=eq.1")
    assert r.get_data(as_text=True) == '[{"id":1,"id":1,"name":"Microsoft"}]'


def test_function_results_embed_through_their_return_type(client: Client) -> None:
    got = rows(
        client, "/rpc/e_projects_of?client=2&select=name,e_clients(name),e_tasks(name)&e_tasks.order=id&order=id"
    )
    assert got == [
        {"name": "IOS", "e_clients": {"name": "Apple"}, "e_tasks": [{"name": "Design IOS"}, {"name": "Code IOS"}]},
        {"name": "OSX", "e_clients": {"name": "Apple"}, "e_tasks": [{"name": "Design OSX"}, {"name": "Code OSX"}]},
    ]
    r = client.post("/rpc/e_first_client?select=name,e_projects!inner(id)&e_projects.id=eq.2", json={})
    assert r.status_code == 200
    assert r.get_json() == {"name": "Microsoft", "e_projects": [{"id": 2}]}


def test_legacy_count_is_the_functional_notation_of_count(client: Client) -> None:
    # Q-SELECT-COUNT-LEGACY: no aggregates setting needed, PostgreSQL reads tbl.count as count(tbl).
    r = client.get("/e_projects?select=count", headers={"Prefer": "count=exact"})
    assert r.get_json() == [{"count": 5}]
    # The total counts the rows read, as PostgREST's count query does, not the one group;
    # one row of five makes the response partial there too.
    assert (r.status_code, r.headers["Content-Range"]) == (206, "0-0/5")
    assert rows(client, "/e_clients?select=name,e_projects(count)&order=id") == [
        {"name": "Microsoft", "e_projects": [{"count": 2}]},
        {"name": "Apple", "e_projects": [{"count": 2}]},
        {"name": "Nobody", "e_projects": [{"count": 0}]},
    ]
    r = client.get("/e_projects?select=id,count")
    assert r.status_code == 400
    assert r.get_json()["code"] == "42803"


def test_exact_count_with_aggregates_counts_the_rows_read(make_client) -> None:  # noqa: ANN001
    client = make_client(db_aggregates_enabled=True)
    r = client.get("/e_projects?select=client_id,count()&client_id=not.is.null", headers={"Prefer": "count=exact"})
    assert (r.status_code, r.headers["Content-Range"]) == (206, "0-1/4")


def test_only_empty_embeds_give_empty_objects(client: Client) -> None:
    # Nothing selected is a row without columns, as PostgREST's `SELECT FROM` gives.
    assert client.get("/e_projects?select=e_clients()&id=eq.1").get_data() == b"[{}]"
    assert client.get("/e_projects?select=...e_clients()&id=eq.1").get_data() == b"[{}]"
    assert rows(client, "/e_clients?select=e_projects(e_tasks())&id=eq.1") == [{"e_projects": [{}, {}]}]
    assert rows(client, "/e_clients?select=...e_projects!inner()&id=eq.3") == []


def test_pgrst201_lists_candidates_in_postgrest_order(client: Client) -> None:
    # PostgREST sorts relationships: one-to-many before many-to-one, then by constraint.
    r = client.get("/e_agents?select=*,e_departments(*)")
    assert r.status_code == 300
    assert r.get_json()["details"] == [
        {
            "cardinality": "one-to-many",
            "embedding": "e_agents with e_departments",
            "relationship": "e_departments_head_id_fkey using e_agents(id) and e_departments(head_id)",
        },
        {
            "cardinality": "many-to-one",
            "embedding": "e_agents with e_departments",
            "relationship": "e_agents_department_id_fkey using e_agents(department_id) and e_departments(id)",
        },
    ]
    assert r.get_json()["hint"] == (
        "Try changing 'e_departments' to one of the following: 'e_departments!e_departments_head_id_fkey', "
        "'e_departments!e_agents_department_id_fkey'. Find the desired relationship in the 'details' key."
    )


def test_aggregates_on_function_results(make_client) -> None:  # noqa: ANN001
    client = make_client(db_aggregates_enabled=True)
    assert rows(client, "/rpc/e_projects_of?client=1&select=client_id,n:count(),top:id.max()") == [
        {"client_id": 1, "n": 2, "top": 2}
    ]
    assert rows(client, "/rpc/e_projects_of?client=2&select=id.sum(),e_clients(name)") == [
        {"sum": 7, "e_clients": {"name": "Apple"}}
    ]
