"""The CloudWatch embedded metric format specification as a JSON schema, plus the rules a schema
cannot express (the references between the metadata and the root members).

Written from the specification ("Specification: Embedded metric format", Amazon CloudWatch user
guide): the root is a JSON object with an ``_aws`` metadata object holding ``Timestamp`` (epoch
milliseconds) and ``CloudWatchMetrics``, an array of MetricDirective objects; a MetricDirective has
``Namespace`` (1-1024 characters), ``Dimensions`` (an array of DimensionSets; a DimensionSet is an
array of at most 30 dimension names) and ``Metrics`` (at most 100 MetricDefinitions of ``Name``,
optional ``Unit`` from CloudWatch's unit list and optional ``StorageResolution`` 1 or 60). Objects
of the specification carry no other members. Every dimension named must be a root member whose
value is a string (at most 1024 characters); every metric named must be a root member whose value
is a number or an array of at most 100 numbers.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs

UNITS = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
]

EMF_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["_aws"],
    "properties": {
        "_aws": {
            "type": "object",
            "required": ["Timestamp", "CloudWatchMetrics"],
            "additionalProperties": False,
            "properties": {
                "Timestamp": {"type": "integer", "minimum": 0},
                "CloudWatchMetrics": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["Namespace", "Dimensions", "Metrics"],
                        "additionalProperties": False,
                        "properties": {
                            "Namespace": {"type": "string", "minLength": 1, "maxLength": 1024},
                            "Dimensions": {
                                "type": "array",
                                "items": {
                                    "type": "array",
                                    "maxItems": 30,
                                    "items": {"type": "string", "minLength": 1, "maxLength": 250},
                                },
                            },
                            "Metrics": {
                                "type": "array",
                                "maxItems": 100,
                                "items": {
                                    "type": "object",
                                    "required": ["Name"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "Name": {"type": "string", "minLength": 1, "maxLength": 1024},
                                        "Unit": {"enum": UNITS},
                                        "StorageResolution": {"enum": [1, 60]},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        }
    },
}

_validator = jsonschema_rs.validator_for(EMF_SCHEMA)


def emf_problems(line: str) -> list[str]:
    """Everything that makes ``line`` not a valid EMF log event; empty when it is one."""
    try:
        document = json.loads(line)
    except ValueError as error:
        return [f"not JSON: {error}"]
    if not isinstance(document, dict):
        return ["the root is not a JSON object"]
    problems = [error.message for error in _validator.iter_errors(document)]
    if problems:
        return problems
    for directive in document["_aws"]["CloudWatchMetrics"]:
        for dimension_set in directive["Dimensions"]:
            for name in dimension_set:
                value = document.get(name)
                if not isinstance(value, str) or not 1 <= len(value) <= 1024:
                    problems.append(f"dimension {name!r} is not a root string member of 1-1024 characters")
        for metric in directive["Metrics"]:
            value = document.get(metric["Name"])
            numbers = value if isinstance(value, list) else [value]
            if isinstance(value, list) and not 1 <= len(value) <= 100:
                problems.append(f"metric {metric['Name']!r} has {len(value)} values (1-100 allowed)")
            if not all(isinstance(n, int | float) and not isinstance(n, bool) for n in numbers):
                problems.append(f"metric {metric['Name']!r} is not a number or an array of numbers")
    return problems
