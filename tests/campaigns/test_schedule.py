"""Calling windows in each customer's local time, across time zones and daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime

from navaia_app.campaigns.schedule import CallingWindow

WEEKDAYS = "mon,tue,wed,thu,fri"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_open_and_closed_in_the_customers_own_zone():
    window = CallingWindow.of("09:00", "18:00", WEEKDAYS)
    instant = utc(2026, 6, 10, 14, 0)  # a Wednesday: 10:00 in New York, 07:00 in Los Angeles, 23:00 in Tokyo
    assert window.contains(instant, "America/New_York")
    assert not window.contains(instant, "America/Los_Angeles")
    assert not window.contains(instant, "Asia/Tokyo")
    assert window.next_opening(instant, "America/New_York") == instant
    assert window.next_opening(instant, "America/Los_Angeles") == utc(2026, 6, 10, 16, 0)  # 09:00 PDT
    assert window.next_opening(instant, "Asia/Tokyo") == utc(2026, 6, 11, 0, 0)  # Thu 09:00 JST


def test_the_window_closes_at_its_end_and_skips_the_weekend():
    window = CallingWindow.of("09:00", "18:00", WEEKDAYS)
    friday_evening = utc(2026, 6, 12, 22, 0)  # Fri 18:00 EDT: closed (the end is excluded)
    assert not window.contains(friday_evening, "America/New_York")
    assert window.contains(utc(2026, 6, 12, 21, 59), "America/New_York")
    assert window.next_opening(friday_evening, "America/New_York") == utc(2026, 6, 15, 13, 0)  # Monday 09:00


def test_spring_forward_keeps_the_local_wall_clock():
    """New York moves from EST (-5) to EDT (-4) on Sunday 8 March 2026."""
    window = CallingWindow.of("09:00", "18:00", WEEKDAYS)
    assert window.next_opening(utc(2026, 3, 6, 0, 0), "America/New_York") == utc(2026, 3, 6, 14, 0)  # Fri, EST
    assert window.next_opening(utc(2026, 3, 7, 0, 0), "America/New_York") == utc(2026, 3, 9, 13, 0)  # Mon, EDT
    # Europe changes three weeks later: the same UTC instant is inside London's window one week, not the next.
    london = CallingWindow.of("09:00", "17:00", WEEKDAYS)
    assert london.contains(utc(2026, 3, 27, 16, 30), "Europe/London")  # 16:30 GMT
    assert not london.contains(utc(2026, 3, 30, 16, 30), "Europe/London")  # 17:30 BST


def test_fall_back_and_a_window_start_inside_the_gap():
    # London falls back on Sunday 25 October 2026: 09:00 is 08:00 UTC before, 09:00 UTC after.
    window = CallingWindow.of("09:00", "12:00", "mon,tue,wed,thu,fri,sat,sun")
    assert window.next_opening(utc(2026, 10, 24, 0, 0), "Europe/London") == utc(2026, 10, 24, 8, 0)
    assert window.next_opening(utc(2026, 10, 25, 0, 0), "Europe/London") == utc(2026, 10, 25, 9, 0)
    # 02:30 does not exist in New York on 8 March 2026: the window opens when the clock jumps (03:00 EDT).
    early = CallingWindow.of("02:30", "05:00", "sun")
    assert early.next_opening(utc(2026, 3, 8, 0, 0), "America/New_York") == utc(2026, 3, 8, 7, 0)


def test_overnight_and_all_day_windows():
    night = CallingWindow.of("20:00", "02:00", "fri")  # Friday evening into Saturday night
    assert night.contains(utc(2026, 6, 13, 5, 30), "America/New_York")  # Sat 01:30 EDT, Friday's window
    assert not night.contains(utc(2026, 6, 13, 6, 30), "America/New_York")  # Sat 02:30
    assert night.next_opening(utc(2026, 6, 13, 6, 30), "America/New_York") == utc(2026, 6, 20, 0, 0)
    always = CallingWindow.of("00:00", "00:00", "mon,tue,wed,thu,fri,sat,sun")
    assert always.contains(utc(2026, 6, 13, 3, 0), "Pacific/Auckland")
    assert CallingWindow.of("09:00", "17:00", []).next_opening(utc(2026, 6, 13), "UTC") is None


def test_the_periods_of_the_days_before_answer_contains_across_zones_and_clock_changes():
    """spans_before (what planning many reminders reads once per zone and day) agrees with contains, and its
    latest close before an instant is one contains says is closed, every 20 minutes over a DST change."""
    from datetime import timedelta

    from navaia_app.campaigns.schedule import zone as zone_of

    for window in (CallingWindow.of("09:00", "20:00", "mon,tue,wed,thu,fri,sat,sun"),
                   CallingWindow.of("20:00", "02:00", WEEKDAYS), CallingWindow.of("08:00", "08:00", WEEKDAYS)):
        for zone in ("Europe/Paris", "America/New_York", "Pacific/Kiritimati", "Australia/Lord_Howe"):
            instant = utc(2026, 10, 23, 0, 0)  # the week Europe leaves summer time
            while instant < utc(2026, 11, 3, 0, 0):
                spans = window.spans_before(instant.astimezone(zone_of(zone)).date(), zone, 4)
                inside = any(opens <= instant < closes for opens, closes in spans)
                assert inside == window.contains(instant, zone), (window, zone, instant)
                closes = max((c for _, c in spans if c <= instant), default=None)
                if closes is not None:
                    assert window.contains(closes - timedelta(minutes=1), zone), (window, zone, instant, closes)
                instant += timedelta(minutes=20)
