"""template.yaml and samconfig.toml as data: a YAML loader for CloudFormation's short tags."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent.parent
PSEUDO_PARAMETERS = {
    "AWS::AccountId",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
}


class CloudFormationLoader(yaml.SafeLoader):
    """``!Ref x`` becomes ``{"Ref": "x"}``, ``!GetAtt a.b`` ``{"Fn::GetAtt": ["a", "b"]}``, and so on."""


def _construct(loader: CloudFormationLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    key = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {key: value}


CloudFormationLoader.add_multi_constructor("!", _construct)


def load_template(path: Path = REPO / "template.yaml") -> dict[str, Any]:
    template: dict[str, Any] = yaml.load(path.read_text(), Loader=CloudFormationLoader)  # noqa: S506
    return template


def parameter_overrides(env: str, path: Path = REPO / "samconfig.toml") -> dict[str, str]:
    config = tomllib.loads(path.read_text())
    raw = config[env]["deploy"]["parameters"]["parameter_overrides"]
    return dict(item.split("=", 1) for item in shlex.split(raw))


def sub_variables(text: str) -> set[str]:
    """The ``${...}`` names in a Fn::Sub string (``${!x}`` is a literal)."""
    return {name for name in re.findall(r"\$\{([^}!][^}]*)\}", text)}


def walk(node: Any) -> Any:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)
