"""scripts/prune_versions.py: which published versions go, against an in-memory Lambda API."""

from __future__ import annotations

from typing import Any

import pytest

from scripts.prune_versions import protected_versions, prune, versions_to_delete


class FakeLambda:
    """The four Lambda API calls the script makes, with pages of two like the real paginators."""

    def __init__(self, versions: list[str], aliases: list[dict[str, Any]]) -> None:
        self.versions = ["$LATEST", *versions]
        self.aliases = aliases
        self.deleted: list[str] = []

    def get_paginator(self, operation: str) -> Any:
        client = self

        class Paginator:
            def paginate(self, FunctionName: str) -> Any:
                assert FunctionName == "fn"
                if operation == "list_versions_by_function":
                    items, key = [{"Version": v} for v in client.versions], "Versions"
                else:
                    items, key = client.aliases, "Aliases"
                for start in range(0, len(items), 2):
                    yield {key: items[start : start + 2]}

        return Paginator()

    def delete_function(self, FunctionName: str, Qualifier: str) -> None:
        assert FunctionName == "fn" and Qualifier.isdigit()
        self.versions.remove(Qualifier)
        self.deleted.append(Qualifier)


def test_the_newest_versions_and_every_aliased_one_are_kept() -> None:
    versions = [str(v) for v in range(1, 11)]
    assert versions_to_delete(versions, {"2"}, keep=3) == ["1", "3", "4", "5", "6", "7"]


def test_latest_is_never_a_candidate_and_fewer_versions_than_keep_delete_nothing() -> None:
    assert versions_to_delete(["$LATEST", "1", "2"], set(), keep=3) == []


def test_versions_compare_as_numbers() -> None:
    assert versions_to_delete(["9", "10", "11"], set(), keep=2) == ["9"]


def test_keep_must_be_positive() -> None:
    with pytest.raises(ValueError):
        versions_to_delete(["1"], set(), keep=0)


def test_both_sides_of_a_canary_are_protected() -> None:
    aliases = [{"Name": "live", "FunctionVersion": "7", "RoutingConfig": {"AdditionalVersionWeights": {"8": 0.1}}}]
    assert protected_versions(aliases) == {"7", "8"}


def test_prune_deletes_old_versions_through_the_api(capsys) -> None:
    aliases = [{"Name": "live", "FunctionVersion": "2"}]
    client = FakeLambda([str(v) for v in range(1, 8)], aliases)
    assert prune(client, "fn", keep=2, dry_run=False) == ["1", "3", "4", "5"]
    assert client.deleted == ["1", "3", "4", "5"]
    assert client.versions == ["$LATEST", "2", "6", "7"]
    assert "4 of 7 published versions pruned" in capsys.readouterr().out


def test_a_dry_run_deletes_nothing() -> None:
    client = FakeLambda([str(v) for v in range(1, 8)], [{"Name": "live", "FunctionVersion": "7"}])
    assert prune(client, "fn", keep=3, dry_run=True) == ["1", "2", "3", "4"]
    assert client.deleted == []
