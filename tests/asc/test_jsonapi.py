"""JSON:API document helpers."""

from __future__ import annotations

from app.asc.jsonapi import Document, Resource

PAGE = {
    "data": [
        {
            "type": "appStoreVersions",
            "id": "v1",
            "attributes": {"versionString": "1.0", "newField": 1},
            "relationships": {
                "build": {"data": {"type": "builds", "id": "b1"}},
                "app": {"data": {"type": "apps", "id": "a1"}, "links": {"self": "x"}},
                "missing": {"data": None},
                "notIncluded": {"links": {"related": "https://x"}},
                "betaGroups": {
                    "data": [{"type": "betaGroups", "id": "g1"}, {"type": "betaGroups", "id": "g2"}]
                },
            },
            "links": {"self": "https://api.appstoreconnect.apple.com/v1/appStoreVersions/v1"},
        },
        {"type": "appStoreVersions", "id": "v2", "attributes": None},
    ],
    "included": [
        {"type": "builds", "id": "b1", "attributes": {"version": "42"}},
        {"type": "apps", "id": "a1", "attributes": {"name": "Example"}},
        {"type": "betaGroups", "id": "g1"},
    ],
    "links": {"self": "s", "next": "https://api.appstoreconnect.apple.com/v1/x?cursor=Mg&limit=2"},
    "meta": {"paging": {"total": 3, "limit": 2}},
    "jsonapi": {"version": "1.0"},
}


def test_list_document() -> None:
    document = Document.model_validate(PAGE)
    versions = document.resources()
    assert [v.id for v in versions] == ["v1", "v2"]
    assert versions[0].attributes["newField"] == 1
    assert versions[1].attributes == {}
    assert versions[1].relationships == {}
    assert document.next_url() == "https://api.appstoreconnect.apple.com/v1/x?cursor=Mg&limit=2"
    assert document.total() == 3
    index = document.included_index()
    assert index[("builds", "b1")].attributes["version"] == "42"


def test_related_resolution() -> None:
    document = Document.model_validate(PAGE)
    version = document.resources()[0]
    build = document.related(version, "build")
    assert isinstance(build, Resource) and build.id == "b1"
    assert document.related_one(version, "app") is not None
    assert document.related(version, "missing") is None
    assert document.related(version, "notIncluded") is None
    assert document.related(version, "unknown") is None
    groups = document.related_many(version, "betaGroups")
    assert [g.id for g in groups] == ["g1"]  # g2 was not included
    assert version.relationship_ids("betaGroups") == [("betaGroups", "g1"), ("betaGroups", "g2")]


def test_single_and_empty_documents() -> None:
    single = Document.model_validate({"data": {"type": "apps", "id": "1"}, "links": {"self": "s"}})
    assert [r.id for r in single.resources()] == ["1"]
    assert single.next_url() is None
    assert single.total() is None
    empty = Document.model_validate({"data": None, "included": None})
    assert empty.resources() == []
    assert empty.included == []
    assert Document.model_validate({"data": []}).resources() == []
