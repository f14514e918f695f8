"""The rule module on its own: which rules are accepted, and next occurrences against dateutil's own
expansion (the library the service expands with, used here as the reference)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from shared.models.limits import RECURRENCE_COUNT_MAX, RECURRENCE_INTERVAL_MAX
from shared.recurrence import PATTERN, RuleError, check_timezone, next_occurrence, normalize_rule

BERLIN = "Europe/Berlin"


def series(rule: str, start: datetime, zone: str, n: int) -> list[datetime | None]:
    """The service's successive next occurrences, each computed from the previous one."""
    found: list[datetime | None] = []
    current = start
    for _ in range(n):
        nxt = next_occurrence(rule, start=start, timezone=zone, after=current)
        found.append(nxt)
        if nxt is None:
            break
        current = nxt
    return found


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        ("", "NAME=VALUE"),
        ("FREQ=SECONDLY", "FREQ must be one of"),
        ("FREQ=MINUTELY", "FREQ must be one of"),
        ("FREQ=HOURLY", "FREQ must be one of"),
        ("INTERVAL=2", "FREQ is required"),
        ("FREQ=MONTHLY;BYSETPOS=1;BYDAY=MO", "only the rule parts"),
        ("FREQ=DAILY;BYHOUR=9", "only the rule parts"),
        ("FREQ=WEEKLY;WKST=SU", "only the rule parts"),
        ("RRULE:FREQ=DAILY", "only the rule parts"),
        ("FREQ=DAILY;FREQ=WEEKLY", "more than once"),
        ("FREQ=WEEKLY;BYDAY=MO;BYDAY=TU", "more than once"),
        ("FREQ=DAILY;COUNT=3;UNTIL=20300101T000000Z", "COUNT and UNTIL"),
        (f"FREQ=DAILY;COUNT={RECURRENCE_COUNT_MAX + 1}", f"1-{RECURRENCE_COUNT_MAX}"),
        ("FREQ=DAILY;COUNT=0", f"1-{RECURRENCE_COUNT_MAX}"),
        (f"FREQ=DAILY;INTERVAL={RECURRENCE_INTERVAL_MAX + 1}", f"1-{RECURRENCE_INTERVAL_MAX}"),
        ("FREQ=DAILY;INTERVAL=99999999999999999999", "integers"),
        ("FREQ=DAILY;INTERVAL=1,2", "one integer"),
        ("FREQ=DAILY;UNTIL=2030-01-01", "UNTIL must be"),
        ("FREQ=DAILY;UNTIL=20300101T0000", "UNTIL must be"),
        ("FREQ=DAILY;UNTIL=20301341T000000Z", "not a valid date"),
        ("FREQ=DAILY;UNTIL=20300230", "not a valid date"),
        ("FREQ=DAILY;BYMONTH=13", "1-12"),
        ("FREQ=DAILY;BYMONTHDAY=0", "±1-31"),
        ("FREQ=DAILY;BYMONTHDAY=32", "±1-31"),
        ("FREQ=WEEKLY;BYMONTHDAY=1", "FREQ=WEEKLY"),
        ("FREQ=WEEKLY;BYDAY=1MO", "needs FREQ=MONTHLY"),
        ("FREQ=MONTHLY;BYDAY=6MO", "±1-5"),
        ("FREQ=YEARLY;BYDAY=54MO", "±1-53"),
        ("FREQ=WEEKLY;BYDAY=XX", "BYDAY must list weekdays"),
        ("FREQ=WEEKLY;BYDAY=MO,,TU", "BYDAY must list weekdays"),
        ("FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30", "never occurs"),
        ("FREQ=MONTHLY;BYDAY=5MO;BYMONTHDAY=1", "never occurs"),
        (" FREQ=DAILY", "only the rule parts"),
        ("FREQ=DAILY;", "NAME=VALUE"),
    ],
)
def test_unsupported_or_invalid_rules_are_refused_with_the_reason(rule, reason):
    with pytest.raises(RuleError, match=reason):
        normalize_rule(rule)


@pytest.mark.parametrize(
    ("rule", "stored"),
    [
        ("freq=weekly;byday=mo,we", "FREQ=WEEKLY;BYDAY=MO,WE"),
        ("BYDAY=-1FR;FREQ=MONTHLY", "BYDAY=-1FR;FREQ=MONTHLY"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29"),
        ("FREQ=DAILY;UNTIL=20301231t235959z", "FREQ=DAILY;UNTIL=20301231T235959Z"),
        (f"FREQ=DAILY;INTERVAL={RECURRENCE_INTERVAL_MAX};COUNT={RECURRENCE_COUNT_MAX}", None),
    ],
)
def test_supported_rules_are_stored_upper_case(rule, stored):
    assert normalize_rule(rule) == (stored or rule)
    import re

    assert re.match(PATTERN, rule)


def test_zone_names_are_iana_names_exactly():
    assert check_timezone("Europe/Berlin") == "Europe/Berlin"
    for bad in ("europe/berlin", "Mars/Olympus", "", "/etc/localtime", "../UTC", "posixrules"):
        with pytest.raises(RuleError):
            check_timezone(bad)


def test_weekly_nine_oclock_berlin_stays_nine_local_across_both_transitions():
    start = datetime(2026, 3, 16, 8, 0, tzinfo=UTC)  # Monday 09:00 CET
    found = series("FREQ=WEEKLY", start, BERLIN, 34)
    local = [d.astimezone(ZoneInfo(BERLIN)) for d in found if d is not None]
    assert all((d.hour, d.minute) == (9, 0) for d in local)
    assert found[1] == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # CEST after 29 March
    assert found[32] == datetime(2026, 11, 2, 8, 0, tzinfo=UTC)  # CET again after 25 October


def test_monthly_on_the_31st_skips_months_without_one():
    found = series("FREQ=MONTHLY;BYMONTHDAY=31", datetime(2026, 1, 31, 9, tzinfo=UTC), "UTC", 6)
    assert [d.date().isoformat() for d in found if d] == [
        "2026-03-31",
        "2026-05-31",
        "2026-07-31",
        "2026-08-31",
        "2026-10-31",
        "2026-12-31",
    ]


def test_count_counts_the_start_as_the_first_occurrence_even_off_the_rule():
    # 28 January 2026 is a Wednesday: the start counts, then two Mondays.
    found = series("FREQ=WEEKLY;BYDAY=MO;COUNT=3", datetime(2026, 1, 28, 9, tzinfo=UTC), "UTC", 5)
    assert found == [datetime(2026, 2, 2, 9, tzinfo=UTC), datetime(2026, 2, 9, 9, tzinfo=UTC), None]


def test_until_is_inclusive_and_ends_the_series():
    rule = "FREQ=DAILY;UNTIL=20260103T090000Z"
    found = series(rule, datetime(2026, 1, 1, 9, tzinfo=UTC), "UTC", 5)
    assert found == [datetime(2026, 1, 2, 9, tzinfo=UTC), datetime(2026, 1, 3, 9, tzinfo=UTC), None]


def test_until_as_a_date_or_local_time_is_read_in_the_tasks_zone():
    start = datetime(2026, 1, 1, 22, tzinfo=UTC)  # 23:00 in Berlin
    by_date = series("FREQ=DAILY;UNTIL=20260102", start, BERLIN, 5)
    assert by_date == [datetime(2026, 1, 2, 22, tzinfo=UTC), None]
    by_local_time = series("FREQ=DAILY;UNTIL=20260102T225959", start, BERLIN, 5)
    assert by_local_time == [None]


def test_a_start_in_the_future_is_the_next_occurrence():
    start = datetime(2030, 1, 1, 9, tzinfo=UTC)
    assert next_occurrence("FREQ=DAILY", start=start, timezone="UTC", after=start - timedelta(days=3)) == start


def test_a_series_that_began_centuries_ago_is_expanded_from_near_now():
    start = datetime(1700, 1, 1, 9, tzinfo=UTC)
    after = datetime(2026, 6, 15, 12, tzinfo=UTC)
    for rule in (
        "FREQ=DAILY;INTERVAL=3",
        "FREQ=WEEKLY;INTERVAL=5;BYDAY=TU,SA",
        "FREQ=MONTHLY;INTERVAL=7",
        "FREQ=YEARLY;INTERVAL=9",
    ):
        expected = rrulestr(rule, dtstart=start).after(after)
        assert next_occurrence(rule, start=start, timezone="UTC", after=after) == expected


ZONES = ["UTC", BERLIN, "America/New_York", "Australia/Sydney", "Asia/Kolkata", "America/Sao_Paulo", "Pacific/Auckland"]
WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


@st.composite
def rules(draw: st.DrawFn) -> str:
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
    parts = [f"FREQ={freq}"]
    if draw(st.booleans()):
        parts.append(f"INTERVAL={draw(st.integers(1, 5))}")
    if draw(st.booleans()):
        days = draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=3, unique=True))
        if freq in ("MONTHLY", "YEARLY") and draw(st.booleans()):
            days = [f"{draw(st.sampled_from([1, 2, -1]))}{d}" for d in days]
        parts.append("BYDAY=" + ",".join(days))
    if freq != "WEEKLY" and draw(st.booleans()):
        days_of_month = draw(
            st.lists(st.sampled_from([1, 15, 28, 29, 30, 31, -1]), min_size=1, max_size=2, unique=True)
        )
        parts.append("BYMONTHDAY=" + ",".join(map(str, days_of_month)))
    if draw(st.booleans()):
        parts.append(
            "BYMONTH=" + ",".join(map(str, draw(st.lists(st.integers(1, 12), min_size=1, max_size=3, unique=True))))
        )
    end = draw(st.sampled_from(["", "COUNT", "UNTIL"]))
    if end == "COUNT":
        parts.append(f"COUNT={draw(st.integers(1, 8))}")
    elif end == "UNTIL":
        parts.append("UNTIL=20310101T000000Z")
    return ";".join(parts)


def synced_start(rule: str, zone: str, base: datetime) -> datetime:
    """The rule's first instance from `base` (local wall time, an hour no zone here changes at)."""
    first = rrulestr(rule, dtstart=base.replace(tzinfo=ZoneInfo(zone))).after(
        base.replace(tzinfo=ZoneInfo(zone)), inc=True
    )
    assume(first is not None)
    return first.astimezone(UTC)


bases = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31)).map(
    lambda d: d.replace(hour=6 + d.hour % 14, second=0, microsecond=0)
)


@given(rule=rules(), zone=st.sampled_from(ZONES), base=bases)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
def test_successive_next_occurrences_are_dateutils_expansion(rule, zone, base):
    try:
        normalize_rule(rule)
    except RuleError:
        assume(False)
    start = synced_start(rule, zone, base)
    expected = [d.astimezone(UTC) for d in rrulestr(rule, dtstart=start.astimezone(ZoneInfo(zone)))[:7]]
    found = series(rule, start, zone, 6)
    assert expected[0] == start
    assert found == (expected[1:] + [None])[: len(found)]
    assert len(found) == min(6, len(expected))


@given(rule=rules(), zone=st.sampled_from(ZONES), base=bases, offset=st.integers(0, 40 * 365 * 24))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
def test_next_occurrence_after_any_instant_is_dateutils_next_instance(rule, zone, base, offset):
    try:
        normalize_rule(rule)
    except RuleError:
        assume(False)
    start = synced_start(rule, zone, base)
    after = start + timedelta(hours=offset)
    instances = rrulestr(rule, dtstart=start.astimezone(ZoneInfo(zone)))
    expected = next((d.astimezone(UTC) for d in instances if d.astimezone(UTC) > after), None)
    assert next_occurrence(rule, start=start, timezone=zone, after=after) == expected


def test_zones_work_without_a_system_zone_database():
    """Lambda's python3.12 runtime has no /usr/share/zoneinfo: the pinned tzdata package must do."""
    import subprocess
    import sys

    from tests.support import REPO

    code = (
        "import datetime as d; from shared.recurrence import next_occurrence as n; "
        "s = d.datetime(2026, 3, 23, 8, tzinfo=d.UTC); "
        "print(n('FREQ=WEEKLY', start=s, timezone='Europe/Berlin', after=s).isoformat())"
    )
    env = {"PYTHONTZPATH": "", "PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "2026-03-30T07:00:00+00:00"
