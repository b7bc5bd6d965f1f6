"""GeoJSON output, `Accept: application/geo+json` (M-GEOJSON), with PostGIS.

Ported from PostgREST's test/spec/Feature/Query/PostGISSpec.hs (its 12 cases, in order), run
there with db-extra-search-path = public, extensions and PostGIS in schema extensions, as
here. The built-in handler is PostgREST's asGeoJsonF (Query/SqlFragment.hs):
`json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(ST_AsGeoJSON(row)::json), '[]'))`.

PostGIS is an extension of the server: the tests run against the `postgis_server` fixture
(tests/conftest.py), the test server if it has PostGIS, else a private PostgreSQL 15 with
Debian's PostGIS; they are skipped, saying what to install, where neither exists
(tests/integration/test_custom_media.py covers custom handlers without it).
The objects are those of PostgREST's fixture (shops, shop_bles, projects, get_shop) in a
schema geo of a database of this module's own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from werkzeug.test import Client

from tests.conftest import JSON, Server, assert_error, client_factory, own_database

GEOJSON = "application/geo+json; charset=utf-8"
ACCEPT = {"Accept": "application/geo+json"}
REPRESENTATION = {**ACCEPT, "Prefer": "return=representation"}

SCHEMA = """
CREATE SCHEMA extensions;
CREATE EXTENSION postgis SCHEMA extensions;
CREATE SCHEMA geo;

CREATE TABLE geo.projects (
  id        integer PRIMARY KEY,
  name      text NOT NULL,
  client_id integer
);

CREATE TABLE geo.shops (
  id        int PRIMARY KEY,
  address   text,
  shop_geom extensions.geometry(POINT, 4326)
);

CREATE TABLE geo.shop_bles (
  id         int PRIMARY KEY,
  name       text,
  coords     extensions.geometry(POINT, 4326),
  range_area extensions.geometry(POLYGON, 4326),
  shop_id    int REFERENCES geo.shops (id)
);

CREATE FUNCTION geo.get_shop(id int) RETURNS geo.shops
LANGUAGE sql STABLE AS $$
  SELECT * FROM geo.shops WHERE shops.id = $1;
$$;

GRANT USAGE ON SCHEMA geo, extensions TO pgwsgi_anon, pgwsgi_user;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA geo TO pgwsgi_anon, pgwsgi_user;
"""

# PostgREST's data.sql; run before each test, as some write.
DATA = """
TRUNCATE geo.shop_bles, geo.shops, geo.projects;
INSERT INTO geo.projects VALUES
  (1, 'Windows 7', 1), (2, 'Windows 10', 1), (3, 'IOS', 2), (4, 'OSX', 2), (5, 'Orphan', NULL);
INSERT INTO geo.shops (id, address, shop_geom) VALUES
  (1, '1369 Cambridge St', 'SRID=4326;POINT(-71.10044 42.373695)'),
  (2, '757 Massachusetts Ave', 'SRID=4326;POINT(-71.10543 42.366432)'),
  (3, '605 W Kendall St', 'SRID=4326;POINT(-71.081924 42.36437)');
INSERT INTO geo.shop_bles (id, name, coords, shop_id, range_area) VALUES
  (1, 'Beacon-1', 'SRID=4326;POINT(-71.10044 42.373695)', 1, extensions.ST_GeomFromGeoJSON(
    '{"type": "Polygon", "coordinates": [ [ [ -71.10045254230499, 42.37387083326593 ], '
    '[ -71.10048070549963, 42.37377126199953 ], [ -71.10039688646793, 42.37375838212269 ], '
    '[ -71.10037006437777, 42.37385844878863 ], [ -71.10045254230499, 42.37387083326593 ] ] ]}')),
  (2, 'Beacon-2', 'SRID=4326;POINT(-71.10044 42.373695)', 1, extensions.ST_GeomFromGeoJSON(
    '{"type": "Polygon", "coordinates": [ [ [ -71.10034391283989, 42.37385299961788 ], '
    '[ -71.10036939382553, 42.373756895982865 ], [ -71.1002916097641, 42.373745997623224 ], '
    '[ -71.1002641171217, 42.37384408279195 ], [ -71.10034391283989, 42.37385299961788 ] ] ]}'));
"""

CRS = {"type": "name", "properties": {"name": "EPSG:4326"}}


def point(x: float, y: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [x, y]}


def feature(geometry: dict[str, Any], **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


# Fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def geo_db(postgis_server: Server) -> Iterator[str]:
    """A database of this module's own with PostGIS in schema extensions and the objects in schema geo."""
    with own_database(postgis_server, "pgwsgi_geojson") as name:
        with psycopg.connect(postgis_server.dsn(name), autocommit=True) as conn:
            conn.execute(SCHEMA)
        yield name


@pytest.fixture(scope="module")
def app_client(postgis_server: Server, geo_db: str) -> Iterator[Client]:
    with client_factory(
        postgis_server,
        geo_db,
        db_schemas=("geo",),
        db_anon_role="pgwsgi_anon",
        db_extra_search_path=("public", "extensions"),
    ) as factory:
        yield factory()


@pytest.fixture
def client(postgis_server: Server, geo_db: str, app_client: Client) -> Client:
    """The module's client, over PostgREST's rows (some tests write)."""
    with psycopg.connect(postgis_server.dsn(geo_db), autocommit=True) as conn:
        conn.execute(DATA)
    return app_client


def assert_geojson(r: Any, expected: dict[str, Any], status: int = 200) -> None:
    assert r.status_code == status, r.get_data()
    assert r.headers.getlist("Content-Type") == [GEOJSON]
    assert json.loads(r.get_data()) == expected


# PostGISSpec: GeoJSON output -----------------------------------------------------------


def test_works_for_a_table_that_has_a_geometry_column(client: Client) -> None:
    assert_geojson(
        client.get("/shops", headers=ACCEPT),
        collection(
            feature(point(-71.10044, 42.373695), id=1, address="1369 Cambridge St"),
            feature(point(-71.10543, 42.366432), id=2, address="757 Massachusetts Ave"),
            feature(point(-71.081924, 42.36437), id=3, address="605 W Kendall St"),
        ),
    )


def test_fails_for_a_table_that_doesnt_have_a_geometry_column(client: Client) -> None:
    # PostGIS's ST_AsGeoJSON(record) raises 22023, which is a 400.
    assert_error(client.get("/projects", headers=ACCEPT), 400, "22023", "geometry column is missing")


def test_gives_an_empty_features_array_on_no_rows(client: Client) -> None:
    assert_geojson(client.get("/shops?id=gt.3", headers=ACCEPT), collection())


def test_must_include_the_geometry_column_when_using_select(client: Client) -> None:
    r = client.get("/shops?select=id,shop_geom&id=eq.1", headers=ACCEPT)
    assert_geojson(r, collection(feature(point(-71.10044, 42.373695), id=1)))


def test_works_with_resource_embedding(client: Client) -> None:
    # The embedded rows' geometries are PostGIS's json of a geometry, with its crs.
    beacons = [
        {
            "id": 1,
            "name": "Beacon-1",
            "shop_id": 1,
            "coords": {**point(-71.10044, 42.373695), "crs": CRS},
            "range_area": {
                "type": "Polygon",
                "crs": CRS,
                "coordinates": [
                    [
                        [-71.10045254230499, 42.37387083326593],
                        [-71.10048070549963, 42.37377126199953],
                        [-71.10039688646793, 42.37375838212269],
                        [-71.10037006437777, 42.37385844878863],
                        [-71.10045254230499, 42.37387083326593],
                    ]
                ],
            },
        },
        {
            "id": 2,
            "name": "Beacon-2",
            "shop_id": 1,
            "coords": {**point(-71.10044, 42.373695), "crs": CRS},
            "range_area": {
                "type": "Polygon",
                "crs": CRS,
                "coordinates": [
                    [
                        [-71.10034391283989, 42.37385299961788],
                        [-71.10036939382553, 42.373756895982865],
                        [-71.1002916097641, 42.373745997623224],
                        [-71.1002641171217, 42.37384408279195],
                        [-71.10034391283989, 42.37385299961788],
                    ]
                ],
            },
        },
    ]
    r = client.get("/shops?select=*,shop_bles(*)&id=eq.1", headers=ACCEPT)
    expected = feature(point(-71.10044, 42.373695), id=1, address="1369 Cambridge St", shop_bles=beacons)
    assert_geojson(r, collection(expected))


def test_works_with_rpc(client: Client) -> None:
    r = client.get("/rpc/get_shop?id=1", headers=ACCEPT)
    assert_geojson(r, collection(feature(point(-71.10044, 42.373695), id=1, address="1369 Cambridge St")))


def test_works_with_return_representation_after_post(client: Client) -> None:
    body = {"id": 4, "address": "1354 Massachusetts Ave", "shop_geom": "SRID=4326;POINT(-71.11834 42.373238)"}
    r = client.post("/shops", json=body, headers=REPRESENTATION)
    assert_geojson(r, collection(feature(point(-71.11834, 42.373238), id=4, address="1354 Massachusetts Ave")), 201)


def test_works_with_return_representation_after_patch(client: Client) -> None:
    r = client.patch("/shops?id=eq.3", json={"address": "1354 Massachusetts Avenue"}, headers=REPRESENTATION)
    assert_geojson(r, collection(feature(point(-71.081924, 42.36437), id=3, address="1354 Massachusetts Avenue")))


def test_works_with_return_representation_after_put(client: Client) -> None:
    # PUT sets the payload's columns only: shop_geom keeps its value.
    r = client.put("/shops?id=eq.3", json={"id": 3, "address": "1354 Massachusetts Avenue"}, headers=REPRESENTATION)
    assert_geojson(r, collection(feature(point(-71.081924, 42.36437), id=3, address="1354 Massachusetts Avenue")))


def test_works_with_return_representation_after_delete(client: Client) -> None:
    r = client.delete("/shops?id=eq.3", headers=REPRESENTATION)
    assert_geojson(r, collection(feature(point(-71.081924, 42.36437), id=3, address="605 W Kendall St")))


def test_multiple_geometry_columns_select_the_one_to_get_as_a_feature(client: Client) -> None:
    r = client.get("/shop_bles?select=id,name,coords&id=eq.1", headers=ACCEPT)
    assert_geojson(r, collection(feature(point(-71.10044, 42.373695), id=1, name="Beacon-1")))
    # ST_AsGeoJSON's default of 9 decimal digits.
    polygon = {
        "type": "Polygon",
        "coordinates": [
            [
                [-71.100452542, 42.373870833],
                [-71.100480705, 42.373771262],
                [-71.100396886, 42.373758382],
                [-71.100370064, 42.373858449],
                [-71.100452542, 42.373870833],
            ]
        ],
    }
    r = client.get("/shop_bles?select=id,name,range_area&id=eq.1", headers=ACCEPT)
    assert_geojson(r, collection(feature(polygon, id=1, name="Beacon-1")))


def test_gets_the_geojson_geometry_object_with_the_regular_application_json_output(client: Client) -> None:
    r = client.get("/shops?id=eq.1")
    assert r.status_code == 200, r.get_data()
    assert r.headers.getlist("Content-Type") == [JSON]
    shop_geom = {**point(-71.10044, 42.373695), "crs": CRS}
    assert json.loads(r.get_data()) == [{"id": 1, "address": "1369 Cambridge St", "shop_geom": shop_geom}]
