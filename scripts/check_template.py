"""Offline: SAM's own translator (aws-sam-translator, from .venv-tools) expands template.yaml with
each samconfig.toml environment's parameters; the result must deploy the live alias through
CodeDeploy with the environment's deployment type, roll back on the alarms, trace, and point the
keep-warm rule at the alias. Run by scripts/check_template.sh; no AWS account is contacted.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import tomllib
from pathlib import Path
from typing import Any

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parent.parent
EXPECTED_TYPE = {"dev": "AllAtOnce", "prod": "Canary10Percent5Minutes"}
PSEUDO = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::StackName": "tasks-api-check",
    "AWS::URLSuffix": "amazonaws.com",
}


class _NoManagedPolicies:
    """The template names no managed policy by name; SAM adds its own by ARN."""

    def load(self) -> dict[str, str]:
        return {"AWSXrayWriteOnlyAccess": "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"}


def expanded(env: str) -> dict[str, Any]:
    template = yaml_parse((ROOT / "template.yaml").read_text())
    # sam build replaces the local CodeUri with an S3 location; the translator insists on one.
    template["Resources"]["ApiFunction"]["Properties"]["CodeUri"] = "s3://check/artifact.zip"
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    overrides = dict(i.split("=", 1) for i in shlex.split(config[env]["deploy"]["parameters"]["parameter_overrides"]))
    result: dict[str, Any] = transform(template, {**overrides, **PSEUDO}, _NoManagedPolicies())
    return result


def of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    found = {name: r for name, r in resources.items() if r["Type"] == kind}
    assert len(found) == 1, f"expected one {kind}, found {sorted(found)}"
    return next(iter(found.items()))


def check(env: str) -> list[str]:
    resources = expanded(env)["Resources"]
    group_name, group = of_type(resources, "AWS::CodeDeploy::DeploymentGroup")
    props = group["Properties"]
    config_name = props["DeploymentConfigName"]
    assert config_name == {"Fn::Sub": ["CodeDeployDefault.Lambda${ConfigName}", {"ConfigName": EXPECTED_TYPE[env]}]}, (
        config_name
    )
    alarms = {a["Name"]["Ref"] for a in props["AlarmConfiguration"]["Alarms"]}
    assert props["AlarmConfiguration"]["Enabled"] is True
    assert alarms == {"AliasErrorsAlarm", "AliasThrottlesAlarm", "AliasP99DurationAlarm", "Api5xxRateAlarm"}, alarms
    assert "DEPLOYMENT_STOP_ON_ALARM" in props["AutoRollbackConfiguration"]["Events"]
    alias_name, alias = of_type(resources, "AWS::Lambda::Alias")
    assert alias["Properties"]["Name"] == "live"
    assert alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]["DeploymentGroupName"] == {"Ref": group_name}
    _, function = of_type(resources, "AWS::Lambda::Function")
    assert function["Properties"]["TracingConfig"] == {"Mode": "Active"}
    assert function["Properties"]["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    _, rule = of_type(resources, "AWS::Events::Rule")
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Ref": alias_name}, target
    assert json.loads(target["Input"]) == {"tasks-api": "keep-warm"}
    integrations = [r for r in resources.values() if r["Type"] == "AWS::Lambda::Permission"]
    assert all(p["Properties"]["FunctionName"] == {"Ref": alias_name} for p in integrations), (
        "a permission skips the alias"
    )
    role = resources["ApiFunctionRole"]["Properties"]["ManagedPolicyArns"]
    assert any("AWSXrayWriteOnlyAccess" in str(arn) for arn in role), role
    return [f"{env}: {EXPECTED_TYPE[env]}, {len(alarms)} rollback alarms, tracing active, keep-warm -> alias"]


def main() -> int:
    os.environ.setdefault("AWS_DEFAULT_REGION", PSEUDO["AWS::Region"])
    for env in EXPECTED_TYPE:
        for line in check(env):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
