"""Deadline arithmetic: term end, next renewal, last day to cancel (pure)."""

from __future__ import annotations

from datetime import date

from app.contracts.deadlines import compute_schedule, last_day_to_cancel
from app.contracts.terms import Period

M3 = Period(3, "months")


def test_last_day_to_cancel_counts_back_from_the_day_after_the_term() -> None:
    # A term ending 31 Dec with three months' notice: notice must arrive by 30 Sep.
    assert last_day_to_cancel(date(2025, 12, 31), M3) == date(2025, 9, 30)
    # Ending 28 Feb: by 30 Nov (not 28 Nov).
    assert last_day_to_cancel(date(2026, 2, 28), M3) == date(2025, 11, 30)
    assert last_day_to_cancel(date(2026, 2, 28), Period(30, "days")) == date(2026, 1, 29)
    assert last_day_to_cancel(date(2025, 6, 30), Period(6, "weeks")) == date(2025, 5, 19)


def test_renewing_contract_before_first_deadline() -> None:
    s = compute_schedule(today=date(2025, 6, 1), start_date=date(2024, 3, 1), term_months=24,
                         renewal_months=12, after_term="renews", notice=M3)
    assert s.status == "renews"
    assert (s.term_end, s.next_renewal, s.cancel_by) == (
        date(2026, 2, 28), date(2026, 3, 1), date(2025, 11, 30))


def test_renewing_contract_after_a_missed_deadline_moves_to_the_next_period() -> None:
    s = compute_schedule(today=date(2025, 12, 1), start_date=date(2024, 3, 1), term_months=24,
                         renewal_months=12, after_term="renews", notice=M3)
    assert (s.term_end, s.next_renewal, s.cancel_by) == (
        date(2027, 2, 28), date(2027, 3, 1), date(2026, 11, 30))
    on_the_day = compute_schedule(today=date(2025, 11, 30), start_date=date(2024, 3, 1),
                                  term_months=24, renewal_months=12, after_term="renews",
                                  notice=M3)
    assert on_the_day.cancel_by == date(2025, 11, 30)


def test_renewing_contract_without_notice_still_shows_the_renewal() -> None:
    s = compute_schedule(today=date(2025, 1, 1), start_date=date(2024, 3, 1), term_months=12,
                         renewal_months=12, after_term="renews", notice=None)
    assert (s.next_renewal, s.cancel_by) == (date(2025, 3, 1), None)
    assert s.notes


def test_open_ended_after_the_term_with_month_end_notice() -> None:
    gym = dict(start_date=date(2023, 1, 15), term_months=12, renewal_months=None,
               after_term="open_ended", notice=Period(1, "months"), notice_to_month_end=True)
    before = compute_schedule(today=date(2023, 11, 1), **gym)
    assert (before.status, before.term_end, before.cancel_by) == (
        "continues", date(2024, 1, 14), date(2023, 12, 14))
    after = compute_schedule(today=date(2024, 5, 10), **gym)
    assert (after.status, after.earliest_end) == ("open_ended", date(2024, 6, 30))


def test_contract_that_ends_by_itself_and_ended() -> None:
    kw = dict(start_date=date(2025, 1, 1), term_months=None, renewal_months=None,
              after_term="ends", notice=None, end_date=date(2025, 6, 30))
    assert compute_schedule(today=date(2025, 5, 1), **kw).status == "ends"
    ended = compute_schedule(today=date(2025, 7, 1), **kw)
    assert (ended.status, ended.term_end) == ("ended", date(2025, 6, 30))


def test_unknown_after_term_gives_the_safe_cancel_date_and_says_so() -> None:
    s = compute_schedule(today=date(2024, 1, 1), start_date=date(2024, 1, 1), term_months=12,
                         renewal_months=None, after_term=None, notice=M3)
    assert (s.status, s.term_end, s.cancel_by) == ("continues", date(2024, 12, 31),
                                                    date(2024, 9, 30))
    assert "does not say" in s.notes[0]


def test_indefinite_contract_and_nothing_known() -> None:
    s = compute_schedule(today=date(2025, 1, 20), start_date=None, term_months=None,
                         renewal_months=None, after_term="open_ended", notice=Period(2, "weeks"))
    assert (s.status, s.earliest_end) == ("open_ended", date(2025, 2, 3))
    assert compute_schedule(today=date(2025, 1, 1), start_date=None, term_months=None,
                            renewal_months=None, after_term=None, notice=None).status == "unknown"
