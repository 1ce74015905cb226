"""The review metrics against tables worked out by hand (R30, R31; docs/review.md)."""

from __future__ import annotations

import datetime as dt

from anshin.review import rules
from anshin.review.rules import Answered, PublicUpdate

T0 = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


UPDATES = [
    PublicUpdate(at(12), next_update_at=at(42)),  # first notice, 12 min after declaration
    PublicUpdate(at(40), next_update_at=at(70)),  # kept (40 <= 42)
    PublicUpdate(at(75), next_update_at=None),  # late (75 > 70)
    PublicUpdate(at(200)),  # no promise before it: not judged
]


def test_first_notice_cadence_and_silence() -> None:
    assert rules.first_notice_seconds(T0, UPDATES) == 12 * 60
    assert rules.first_notice_seconds(T0, []) is None
    assert rules.cadence_kept(UPDATES) == 0.5
    assert rules.cadence_kept(UPDATES[:1]) is None
    # moments 0, 12, 40, 75, 200, resolved 210: the longest gap is 75 → 200
    assert rules.longest_silence_seconds(T0, UPDATES, at(210)) == 125 * 60
    assert rules.longest_silence_seconds(T0, [], None) is None
    assert rules.longest_silence_seconds(T0, [], at(30)) == 30 * 60


def test_peak_hour_is_a_sliding_window_with_both_ends() -> None:
    times = [at(0), at(30), at(60), at(61), at(62), at(200)]
    # 00:00–01:00 holds 3 (both ends); 00:30–01:30 holds 4.
    assert rules.peak_in_window(times) == 4
    assert rules.peak_in_window([at(0), at(60)]) == 2
    assert rules.peak_in_window([]) == 0


def test_repeat_customers_by_mail_else_phone() -> None:
    keys = [
        rules.customer_key("A@example.com", None),
        rules.customer_key("a@example.com ", "03-1111-2222"),
        rules.customer_key(None, "03-1111-2222"),
        rules.customer_key(None, "0311112222"),
        rules.customer_key("b@example.com", None),
        rules.customer_key(None, None),
    ]
    assert rules.repeat_customers(keys) == 2


def test_nearest_rank_percentiles_overall_and_per_level() -> None:
    assert rules.nearest_rank([], 50) is None
    assert rules.nearest_rank([5, 1, 3, 2, 4], 50) == 3
    assert rules.nearest_rank([5, 1, 3, 2, 4], 90) == 5
    assert rules.nearest_rank(list(range(1, 11)), 90) == 9
    inquiries = [
        Answered(at(0), at(1), 1),
        Answered(at(0), at(3), 1),
        Answered(at(0), at(10), 2),
        Answered(at(0), None, 3),
    ]
    out = rules.first_response_percentiles(inquiries)
    assert out["first_response_p50_seconds"] == 180
    assert out["first_response_p90_seconds"] == 600
    assert out["level_1_p50_seconds"] == 60 and out["level_2_p90_seconds"] == 600
    assert out["level_3_p50_seconds"] is None


def test_escalations_commitments_and_csat() -> None:
    assert rules.escalation_steps([(1, 2), (2, 3), (1, 3), (3, 2), (2, 2)]) == {"2": 1, "3": 2}
    assert (
        rules.commitments_kept(
            [(at(10), at(9)), (at(10), at(10)), (at(10), at(11)), (at(10), None)]
        )
        == 0.5
    )
    assert rules.commitments_kept([]) is None
    assert rules.csat([5, 4, 0, 6, 3]) == (4.0, 3)
    assert rules.csat([]) == (None, 0)


def test_an_update_exactly_at_its_promised_time_counts_as_kept() -> None:
    exact = [PublicUpdate(at(10), next_update_at=at(40)), PublicUpdate(at(40))]
    assert rules.cadence_kept(exact) == 1.0
    a_second_late = [
        PublicUpdate(at(10), next_update_at=at(40)),
        PublicUpdate(at(40) + dt.timedelta(seconds=1)),
    ]
    assert rules.cadence_kept(a_second_late) == 0.0


def test_inquiries_without_a_response_are_left_out_of_the_percentiles() -> None:
    waits = [Answered(at(0), at(5), 1), Answered(at(0), None, 1), Answered(at(0), None, 2)]
    out = rules.first_response_percentiles(waits)
    assert out["first_response_p50_seconds"] == 300 and out["first_response_p90_seconds"] == 300
    assert out["level_2_p50_seconds"] is None
