"""Recurrence rules: validating an RRULE value and finding a task's next occurrence. Pure, no I/O.

The rule is parsed and expanded by python-dateutil; this module only decides which of RFC 5545's
parts the service supports, within which bounds, and where the series starts. dateutil (and the
zone data) is imported on first use, so a cold start that never meets a rule does not pay for it.

The series of a task: its first occurrence is `recurrence_start` (the due date the task had when
its rule was set, counted by COUNT), then every instance of the rule after it, expanded in the
task's zone (wall-clock time kept across daylight-saving changes), ending at COUNT or UNTIL.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from shared.models.limits import RECURRENCE_COUNT_MAX, RECURRENCE_HORIZON_YEARS, RECURRENCE_INTERVAL_MAX

if TYPE_CHECKING:
    from dateutil.rrule import rrule

FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
PARTS = ("FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYMONTH", "COUNT", "UNTIL")
_NUMBER = re.compile(r"^[+-]?\d{1,9}$")
_WEEKDAY = re.compile(r"^([+-]?\d{1,2})?(" + "|".join(WEEKDAYS) + ")$")
_UNTIL = re.compile(r"^\d{8}(T\d{6}Z?)?$")
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # February as in a leap year

DESCRIPTION = (
    "An RFC 5545 RRULE value, e.g. `FREQ=WEEKLY;BYDAY=MO,WE` or `FREQ=MONTHLY;BYMONTHDAY=31;COUNT=12`: "
    f"FREQ (DAILY, WEEKLY, MONTHLY or YEARLY) and optionally INTERVAL (1-{RECURRENCE_INTERVAL_MAX}), "
    f"BYDAY, BYMONTHDAY, BYMONTH, COUNT (1-{RECURRENCE_COUNT_MAX}) or UNTIL (inclusive: a UTC date-time "
    "`YYYYMMDDTHHMMSSZ`, or a date or local date-time in the task's zone), each at most once, COUNT "
    "and UNTIL not together. Names are case-insensitive "
    "and stored upper-case. Needs `due_at`: the due date when the rule is set is its first occurrence; "
    "completing the task moves `due_at` to the next one."
)


def _any_case(word: str) -> str:
    return "".join(f"[{c}{c.lower()}]" if c.isalpha() else c for c in word)


def _syntax() -> str:
    """A regular expression for the syntax of a supported rule (its parts and value shapes, names in
    any case, FREQ anywhere); the bounds and RFC 5545's combination rules are checked by the server."""
    numbers = "[+-]?[0-9]{1,9}(,[+-]?[0-9]{1,9})*"
    weekday = "([+-]?[0-9]{1,2})?(" + "|".join(_any_case(d) for d in WEEKDAYS) + ")"
    other = (
        "("
        + "|".join(
            [
                "(" + "|".join(_any_case(n) for n in ("INTERVAL", "COUNT", "BYMONTHDAY", "BYMONTH")) + ")=" + numbers,
                f"{_any_case('BYDAY')}={weekday}(,{weekday})*",
                f"{_any_case('UNTIL')}=[0-9]{{8}}([Tt][0-9]{{6}}[Zz]?)?",
            ]
        )
        + ")"
    )
    freq = _any_case("FREQ") + "=(" + "|".join(_any_case(f) for f in FREQUENCIES) + ")"
    return f"^({other};)*{freq}(;{other})*$"


PATTERN = _syntax()


class RuleError(ValueError):
    """Why a recurrence value is refused (never echoes the value itself)."""


def _int_list(name: str, value: str, low: int, high: int, *, signed: bool = False) -> list[int]:
    numbers = []
    for item in value.split(","):
        if not _NUMBER.match(item):
            raise RuleError(f"{name} must be a comma-separated list of integers")
        number = int(item)
        if not low <= abs(number) <= high or (not signed and number < 0) or number == 0:
            bounds = f"±{low}-{high}" if signed else f"{low}-{high}"
            raise RuleError(f"{name} values must be {bounds}")
        numbers.append(number)
    return numbers


def _check_byday(value: str, freq: str, has_bymonth: bool) -> None:
    for item in value.split(","):
        match = _WEEKDAY.match(item)
        if match is None:
            raise RuleError(
                "BYDAY must list weekdays (MO, TU, WE, TH, FR, SA, SU), optionally numbered like 1MO or -1FR"
            )
        if match.group(1) is None:
            continue
        if freq not in ("MONTHLY", "YEARLY"):
            raise RuleError("a numbered BYDAY (like 1MO) needs FREQ=MONTHLY or FREQ=YEARLY")
        limit = 5 if freq == "MONTHLY" or has_bymonth else 53
        if not 1 <= abs(int(match.group(1))) <= limit:
            raise RuleError(f"a BYDAY number must be ±1-{limit} here")


def _ever_occurs(parts: dict[str, str], months: list[int]) -> bool:
    """Whether some day matches BYMONTH, BYMONTHDAY and BYDAY together, in any of the 14 kinds of
    year (2000-2027 holds them all). Only a numbered BYDAY with BYMONTHDAY can miss every day; a
    rule that never occurs would make dateutil scan to the year 9999 on every completion."""
    days = {int(d) for d in parts["BYMONTHDAY"].split(",")}
    wanted = [_WEEKDAY.match(item) for item in parts["BYDAY"].split(",")]
    by_year = parts["FREQ"] == "YEARLY" and "BYMONTH" not in parts
    for year in range(2000, 2028):
        for month in months:
            first = date(year, month, 1)
            length = (_add_months(first, 1) - first).days
            period_start = date(year, 1, 1) if by_year else first
            period_end = date(year, 12, 31) if by_year else first + timedelta(days=length - 1)
            for offset in range(length):
                day = first + timedelta(days=offset)
                if offset + 1 not in days and offset - length not in days:
                    continue
                for match in wanted:
                    assert match is not None
                    if WEEKDAYS.index(match.group(2)) != day.weekday():
                        continue
                    number = int(match.group(1) or 0)
                    nth = ((day - period_start).days // 7 + 1) if number > 0 else -((period_end - day).days // 7 + 1)
                    if number == 0 or number == nth:
                        return True
    return False


def _split(text: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    for chunk in text.split(";"):
        name, sep, value = chunk.partition("=")
        if not sep or not value:
            raise RuleError("an RRULE value is NAME=VALUE parts separated by ';', e.g. FREQ=WEEKLY;BYDAY=MO")
        if name not in PARTS:
            raise RuleError(f"only the rule parts {', '.join(PARTS)} are supported")
        if name in parts:
            raise RuleError(f"{name} appears more than once (RFC 5545 allows each part once)")
        parts[name] = value
    return parts


@lru_cache(maxsize=256)
def rule_parts(value: str) -> dict[str, str]:
    """The parts of a valid rule (upper-case), or RuleError saying why it is not one."""
    parts = _split(value.upper())
    freq = parts.get("FREQ")
    if freq is None:
        raise RuleError("FREQ is required")
    if freq not in FREQUENCIES:
        raise RuleError(f"FREQ must be one of {', '.join(FREQUENCIES)}")
    if "COUNT" in parts and "UNTIL" in parts:
        raise RuleError("COUNT and UNTIL must not both be given (RFC 5545)")
    if "INTERVAL" in parts:
        _int_list("INTERVAL", parts["INTERVAL"], 1, RECURRENCE_INTERVAL_MAX)
        if "," in parts["INTERVAL"]:
            raise RuleError("INTERVAL is one integer")
    if "COUNT" in parts:
        _int_list("COUNT", parts["COUNT"], 1, RECURRENCE_COUNT_MAX)
        if "," in parts["COUNT"]:
            raise RuleError("COUNT is one integer")
    if "UNTIL" in parts:
        if not _UNTIL.match(parts["UNTIL"]):
            raise RuleError("UNTIL must be a date-time like 20301231T235959Z (UTC) or a date like 20301231")
        try:
            until_of(parts["UNTIL"], UTC)
        except ValueError:
            raise RuleError("UNTIL is not a valid date") from None
    months = _int_list("BYMONTH", parts["BYMONTH"], 1, 12) if "BYMONTH" in parts else list(range(1, 13))
    if "BYMONTHDAY" in parts:
        if freq == "WEEKLY":
            raise RuleError("BYMONTHDAY must not be used with FREQ=WEEKLY (RFC 5545)")
        days = _int_list("BYMONTHDAY", parts["BYMONTHDAY"], 1, 31, signed=True)
        if not any(abs(d) <= _MONTH_DAYS[m - 1] for m in months for d in days):
            raise RuleError("BYMONTHDAY names no day of the months in BYMONTH: the rule never occurs")
    if "BYDAY" in parts:
        _check_byday(parts["BYDAY"], freq, "BYMONTH" in parts)
        if "BYMONTHDAY" in parts and not _ever_occurs(parts, months):
            raise RuleError("no day matches both BYDAY and BYMONTHDAY: the rule never occurs")
    try:
        _parse(_without_until(parts), datetime(2000, 1, 1, tzinfo=UTC))
    except (ValueError, TypeError, OverflowError):
        raise RuleError("not a valid RRULE value") from None
    return parts


def _without_until(parts: dict[str, str]) -> str:
    # dateutil takes UNTIL only in UTC beside a zoned start; it is applied from until_of instead.
    return ";".join(f"{k}={v}" for k, v in parts.items() if k != "UNTIL")


def until_of(value: str, zone: tzinfo) -> datetime:
    """UNTIL as an instant: a UTC date-time as it is; a local date-time in the task's zone; a date
    through the end of that day there (RFC 5545 wants UTC beside a zoned start; clients send all three)."""
    if value.endswith("Z"):
        return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    if len(value) == 8:
        day = datetime.strptime(value, "%Y%m%d")
        return day.replace(hour=23, minute=59, second=59, tzinfo=zone).astimezone(UTC)
    return datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=zone).astimezone(UTC)


def normalize_rule(value: str) -> str:
    """The rule as stored: upper-case, the parts in the order given."""
    return ";".join(f"{k}={v}" for k, v in rule_parts(value).items())


@cache
def zone_names() -> frozenset[str]:
    """IANA zone names, from the pinned tzdata package: the same list on every runtime."""
    from importlib.resources import files

    return frozenset(files("tzdata").joinpath("zones").read_text().split())


def check_timezone(name: str) -> str:
    if name not in zone_names():
        raise RuleError("timezone must be an IANA time zone name such as Europe/Berlin or UTC")
    return name


def _parse(text: str, dtstart: datetime) -> rrule:
    from dateutil.rrule import rrulestr

    rule = rrulestr(text, dtstart=dtstart)
    assert not isinstance(rule, str)
    return rule  # type: ignore[return-value]


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _anchored(rule: rrule, parts: dict[str, str], start: datetime, after: datetime) -> rrule:
    """The same rule with its dtstart moved to a period boundary shortly before `after`.

    Without COUNT, the instances from a period boundary on do not depend on where the series began,
    once the parts dateutil would take from dtstart are given explicitly: expansion then costs the
    distance to the next occurrence, not the age of the series.
    """
    freq, interval = parts["FREQ"], int(parts.get("INTERVAL", "1"))
    first, target = start.date(), after.date()
    if freq == "DAILY":
        periods, base = (target - first).days, first
    elif freq == "WEEKLY":
        base = _monday(first)
        periods = (_monday(target) - base).days // 7
    elif freq == "MONTHLY":
        base = first.replace(day=1)
        periods = (target.year - first.year) * 12 + target.month - first.month
    else:
        base = first.replace(month=1, day=1)
        periods = target.year - first.year
    steps = max(0, periods // interval - 1) * interval
    if steps == 0:
        return rule
    if freq == "DAILY":
        moved = base + timedelta(days=steps)
    elif freq == "WEEKLY":
        moved = base + timedelta(days=7 * steps)
    elif freq == "MONTHLY":
        moved = _add_months(base, steps)
    else:
        moved = base.replace(year=base.year + steps)
    defaults: dict[str, Any] = {"byhour": start.hour, "byminute": start.minute, "bysecond": start.second}
    if "BYDAY" not in parts and "BYMONTHDAY" not in parts:
        if freq == "WEEKLY":
            defaults["byweekday"] = start.weekday()
        elif freq == "MONTHLY":
            defaults["bymonthday"] = start.day
        elif freq == "YEARLY":
            defaults["bymonthday"] = start.day
            if "BYMONTH" not in parts:
                defaults["bymonth"] = start.month
    dtstart = datetime(moved.year, moved.month, moved.day, tzinfo=start.tzinfo)
    return rule.replace(dtstart=dtstart, **defaults)


def next_occurrence(rule_text: str, *, start: datetime, timezone: str, after: datetime) -> datetime | None:
    """The first occurrence of the series strictly after `after` (UTC), or None when it has ended.

    Occurrences more than RECURRENCE_HORIZON_YEARS after `after` count as none.
    """
    if start > after:
        return start.astimezone(UTC)
    from zoneinfo import ZoneInfo

    parts = rule_parts(rule_text)
    local_start = start.astimezone(ZoneInfo(timezone))
    rule = _parse(_without_until(parts), local_start)
    try:
        until = after + timedelta(days=366 * RECURRENCE_HORIZON_YEARS)
    except OverflowError:
        until = datetime.max.replace(tzinfo=UTC)
    if "UNTIL" in parts:
        until = min(until, until_of(parts["UNTIL"], local_start.tzinfo or UTC))
    # COUNT is counted here, from `start` (always the first occurrence, RFC 5545's DTSTART, even
    # when it does not match the rule, which dateutil would then leave out and not count).
    remaining = int(parts["COUNT"]) - 1 if "COUNT" in parts else None
    if remaining is None:
        rule = _anchored(rule, parts, local_start, after.astimezone(local_start.tzinfo))
    for occurrence in rule.replace(count=None, until=until):
        instant = occurrence.astimezone(UTC)
        if instant <= start:
            continue
        if remaining is not None:
            if remaining == 0:
                return None
            remaining -= 1
        if instant > after:
            return instant
    return None
