"""template.yaml runs in production as docs/deploy.md says: gradual deployment of the live alias
with rollback alarms, active tracing, a keep-warm schedule and a dashboard of the app's metrics."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from functions.api import metrics
from functions.api.handler import KEEP_WARM_EVENT
from tests.deploy.cfn_template import PSEUDO_PARAMETERS, load_template, parameter_overrides, sub_variables, walk

ROLLBACK_ALARMS = {"AliasErrorsAlarm", "AliasThrottlesAlarm", "AliasP99DurationAlarm", "Api5xxRateAlarm"}
LIVE_ALIAS_DIMENSIONS = [
    {"Name": "FunctionName", "Value": {"Ref": "ApiFunction"}},
    {"Name": "Resource", "Value": {"Fn::Sub": "${ApiFunction}:live"}},
]


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="module")
def function(template: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = template["Resources"]["ApiFunction"]["Properties"]
    return properties


def resource(template: dict[str, Any], name: str) -> dict[str, Any]:
    properties: dict[str, Any] = template["Resources"][name]["Properties"]
    return properties


def test_every_reference_names_a_parameter_resource_or_pseudo_parameter(template) -> None:
    known = set(template["Parameters"]) | set(template["Resources"]) | PSEUDO_PARAMETERS
    # SAM's generated names: the alias and version of AutoPublishAlias.
    known |= {"ApiFunction.Alias", "ApiFunction.Version"}
    for node in walk(template):
        if not isinstance(node, dict):
            continue
        if "Ref" in node and isinstance(node["Ref"], str):
            assert node["Ref"] in known, node
        if "Fn::GetAtt" in node:
            assert node["Fn::GetAtt"][0] in template["Resources"], node
        if "Fn::Sub" in node:
            text = node["Fn::Sub"] if isinstance(node["Fn::Sub"], str) else node["Fn::Sub"][0]
            local = set(node["Fn::Sub"][1]) if isinstance(node["Fn::Sub"], list) else set()
            for name in sub_variables(text):
                assert name in known | local or name.split(".", 1)[0] in template["Resources"], (name, text[:80])


def test_the_live_alias_is_deployed_by_the_deployment_type_parameter(template, function) -> None:
    assert function["AutoPublishAlias"] == "live"
    assert function["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    preference = function["DeploymentPreference"]
    assert preference["Type"] == {"Ref": "DeploymentType"}
    parameter = template["Parameters"]["DeploymentType"]
    assert parameter["Default"] == "AllAtOnce"
    assert {"AllAtOnce", "Canary10Percent5Minutes"} <= set(parameter["AllowedValues"])
    assert preference.get("Enabled", True) is True


def test_samconfig_deploys_prod_as_a_10_percent_canary_and_dev_all_at_once(template) -> None:
    assert parameter_overrides("prod")["DeploymentType"] == "Canary10Percent5Minutes"
    assert parameter_overrides("dev")["DeploymentType"] == "AllAtOnce"
    assert parameter_overrides("default")["DeploymentType"] == "AllAtOnce"
    allowed = set(template["Parameters"]["DeploymentType"]["AllowedValues"])
    for env in ("default", "dev", "prod"):
        assert set(parameter_overrides(env)) <= set(template["Parameters"]), env
        assert parameter_overrides(env)["DeploymentType"] in allowed


def test_the_deployment_rolls_back_on_each_alarm(template, function) -> None:
    alarms = function["DeploymentPreference"]["Alarms"]
    assert {alarm["Ref"] for alarm in alarms} == ROLLBACK_ALARMS
    for name in ROLLBACK_ALARMS:
        assert template["Resources"][name]["Type"] == "AWS::CloudWatch::Alarm"
        alarm = resource(template, name)
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert alarm["TreatMissingData"] == "notBreaching"  # no traffic is no failure


@pytest.mark.parametrize(("name", "metric"), [("AliasErrorsAlarm", "Errors"), ("AliasThrottlesAlarm", "Throttles")])
def test_any_error_or_throttle_on_the_live_alias_fires(template, name, metric) -> None:
    alarm = resource(template, name)
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == ("AWS/Lambda", metric, "Sum")
    assert alarm["Dimensions"] == LIVE_ALIAS_DIMENSIONS
    assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["Threshold"]) == (60, 1, 0)


def test_a_slow_p99_on_the_live_alias_fires(template) -> None:
    alarm = resource(template, "AliasP99DurationAlarm")
    assert (alarm["Namespace"], alarm["MetricName"], alarm["ExtendedStatistic"]) == ("AWS/Lambda", "Duration", "p99")
    assert alarm["Dimensions"] == LIVE_ALIAS_DIMENSIONS
    assert alarm["Threshold"] == {"Ref": "P99DurationAlarmMs"}
    assert alarm["Unit"] == "Milliseconds"
    assert alarm["DatapointsToAlarm"] <= alarm["EvaluationPeriods"]
    # The timeout bounds the duration: a threshold above it could never fire.
    assert template["Parameters"]["P99DurationAlarmMs"]["Default"] < template_timeout_ms(template)


def template_timeout_ms(template: dict[str, Any]) -> int:
    return int(template["Resources"]["ApiFunction"]["Properties"]["Timeout"]) * 1000


def test_the_api_5xx_share_fires(template) -> None:
    alarm = resource(template, "Api5xxRateAlarm")
    queries = {query["Id"]: query for query in alarm["Metrics"]}
    returned = [query for query in alarm["Metrics"] if query.get("ReturnData", True)]
    assert [query["Id"] for query in returned] == ["rate"]
    expression = queries["rate"]["Expression"]
    assert re.search(r"errors\s*/\s*requests", expression), expression
    for query_id, metric_name in (("errors", "5xx"), ("requests", "Count")):
        stat = queries[query_id]["MetricStat"]
        assert stat["Metric"]["Namespace"] == "AWS/ApiGateway"
        assert stat["Metric"]["MetricName"] == metric_name
        assert stat["Metric"]["Dimensions"] == [{"Name": "ApiId", "Value": {"Ref": "HttpApi"}}]
        assert (stat["Period"], stat["Stat"]) == (60, "Sum")
    assert alarm["Threshold"] == {"Ref": "Api5xxRateThreshold"}
    assert 0 < template["Parameters"]["Api5xxRateThreshold"]["Default"] < 1


def test_tracing_is_active_without_an_sdk_layer(function) -> None:
    assert function["Tracing"] == "Active"
    assert "Layers" not in function


def test_the_keep_warm_schedule_invokes_the_function_with_the_payload_the_handler_answers(template, function) -> None:
    event = function["Events"]["KeepWarm"]
    assert event["Type"] == "Schedule"  # SAM targets the live alias, since AutoPublishAlias is set
    assert event["Properties"]["Schedule"] == {"Ref": "KeepWarmSchedule"}
    assert json.loads(event["Properties"]["Input"]) == KEEP_WARM_EVENT
    schedule = template["Parameters"]["KeepWarmSchedule"]["Default"]
    match = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", schedule)
    assert match, schedule
    hours = int(match[1]) * {"minute": 1 / 60, "minutes": 1 / 60, "hour": 1, "hours": 1, "day": 24, "days": 24}[match[2]]
    assert hours < 14 * 24 / 2, "a SnapStart version idle for 14 days becomes inactive: ping well within that"


def test_browsers_may_read_the_request_id(template) -> None:
    exposed = resource(template, "HttpApi")["CorsConfiguration"]["ExposeHeaders"]
    assert "x-request-id" in [header.lower() for header in exposed]


def dashboard_body(template: dict[str, Any]) -> dict[str, Any]:
    text = resource(template, "Dashboard")["DashboardBody"]["Fn::Sub"]
    rendered = re.sub(r"\$\{([^}!][^}]*)\}", lambda m: f"<{m[1]}>", text)
    body: dict[str, Any] = json.loads(rendered)
    return body


def test_the_dashboard_is_valid_json_and_shows_every_rollback_alarm(template) -> None:
    body = dashboard_body(template)
    alarm_widgets = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert {arn for w in alarm_widgets for arn in w["properties"]["alarms"]} == {f"<{a}.Arn>" for a in ROLLBACK_ALARMS}
    for widget in body["widgets"]:
        assert {"x", "y", "width", "height", "properties"} <= set(widget)
        assert widget["x"] + widget["width"] <= 24


def test_the_dashboard_graphs_every_metric_the_app_emits(template) -> None:
    text = json.dumps(dashboard_body(template))
    emitted = {m["Name"] for m in metrics.ROUTE_METRICS} | {"ColdStart"}
    for name in emitted:
        assert f'"{name}"' in text or f'\\"{name}\\"' in text, name
    assert text.count(metrics.NAMESPACE) >= len(emitted)
    for aws_metric in ("Count", "5xx", "Invocations", "Errors", "Throttles", "Duration"):
        assert f'"{aws_metric}"' in text, aws_metric
