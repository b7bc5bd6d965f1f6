"""Embedded tables under PostgREST's aliases (`<table>_<depth>`): what errors and plans show of them."""

from __future__ import annotations

from werkzeug.test import Client

from tests.conftest import assert_error

PLAN = {"Accept": "application/vnd.pgrst.plan+text; options=verbose"}


def test_unknown_column_of_an_embed_is_named_by_its_alias(client: Client) -> None:
    # postgrest-js "select with aggregate sum function without column should error".
    r = client.get("/e_clients?select=name,e_projects(sum)")
    assert_error(r, 400, "42703", "column e_projects_1.sum does not exist")
    r = client.get("/e_clients?select=name,e_projects(id,e_tasks(nope))")
    assert_error(r, 400, "42703", "column e_tasks_2.nope does not exist")


def test_unknown_column_of_the_root_keeps_the_table_name(client: Client) -> None:
    assert_error(client.get("/e_clients?select=nope"), 400, "42703", "column e_clients.nope does not exist")


def test_two_embeds_of_one_name_at_one_level_are_refused(client: Client) -> None:
    # PostgREST's two joins get one alias; postgrest-js "join with same dest twice column hinting".
    r = client.get("/e_projects?select=id,e_clients(id),e_clients(name)")
    assert_error(r, 400, "42712", 'table name "e_projects_e_clients_1" specified more than once')
    r = client.get("/e_projects?select=id,a:e_clients(id),b:e_clients(name)")
    assert r.status_code == 200


def test_a_plan_names_embedded_tables_as_postgrest_does(make_client) -> None:  # noqa: ANN001
    client = make_client(db_plan_enabled=True)
    r = client.get("/e_clients?select=name,e_projects!inner(name)&e_projects.id=eq.1", headers=PLAN)
    assert r.status_code == 200
    assert "e_projects_1.client_id = e_clients.id" in r.get_data(as_text=True)
