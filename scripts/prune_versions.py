"""Delete the function's old published versions: each keeps a SnapStart snapshot that is billed
(cache, per GB-second) for as long as the version exists, and old versions serve no traffic.

Kept: the newest --keep versions (default 3: the live one and two to roll back to by hand) and
every version an alias routes to (both sides of a canary in progress). Run by deploy.yml after
`sam deploy`, which returns once CodeDeploy has finished shifting the live alias.

    python scripts/prune_versions.py --function tasks-api-prod-ApiFunction-XXXX [--keep 3] [--dry-run]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping
from typing import Any


def protected_versions(aliases: Iterable[Mapping[str, Any]]) -> set[str]:
    versions: set[str] = set()
    for alias in aliases:
        versions.add(str(alias["FunctionVersion"]))
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        versions.update(str(version) for version in weights)
    return versions


def versions_to_delete(versions: Iterable[str], protected: set[str], keep: int) -> list[str]:
    """Oldest first; never $LATEST, an alias's version, or one of the newest ``keep``."""
    if keep < 1:
        raise ValueError("--keep must be at least 1")
    numbered = sorted((int(v) for v in versions if v.isdigit()), reverse=True)
    newest = set(numbered[:keep])
    return [str(v) for v in sorted(numbered) if v not in newest and str(v) not in protected]


def _all(client: Any, operation: str, key: str, **arguments: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in client.get_paginator(operation).paginate(**arguments):
        items += page[key]
    return items


def prune(client: Any, function: str, *, keep: int, dry_run: bool) -> list[str]:
    versions = [v["Version"] for v in _all(client, "list_versions_by_function", "Versions", FunctionName=function)]
    protected = protected_versions(_all(client, "list_aliases", "Aliases", FunctionName=function))
    doomed = versions_to_delete(versions, protected, keep)
    for version in doomed:
        print(f"{'would delete' if dry_run else 'deleting'} {function}:{version}")
        if not dry_run:
            client.delete_function(FunctionName=function, Qualifier=version)
    print(
        f"{len(doomed)} of {len([v for v in versions if v.isdigit()])} published versions pruned; kept "
        f"{sorted(set(versions) - set(doomed) - {'$LATEST'}, key=int)} (aliases: {sorted(protected, key=int)})"
    )
    return doomed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--function", required=True, help="function name or ARN (stack output FunctionName)")
    parser.add_argument("--keep", type=int, default=3)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    import boto3  # the deploy environment's; never part of the function

    prune(boto3.client("lambda"), args.function, keep=args.keep, dry_run=args.dry_run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
