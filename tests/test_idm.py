"""IDM against its closed forms, and the mobility loop on tiny roads."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vehicles.idm import (
    ballistic_update,
    desired_gap_m,
    equilibrium_gap_m,
    equilibrium_speed_mps,
    idm_acceleration,
)

V0, T, A, B, S0 = 33.3, 1.5, 1.5, 2.0, 2.0


def acc(v, gap, dv):  # type: ignore[no-untyped-def]
    f = lambda x: np.asarray(x, dtype=float)  # noqa: E731
    return idm_acceleration(f(v), f(V0), f(gap), f(dv), f(T), f(A), f(B), f(S0))


def test_free_road_acceleration_is_a_max_at_standstill_and_zero_at_v0() -> None:
    assert acc(0.0, np.inf, 0.0) == pytest.approx(A)
    assert acc(V0, np.inf, 0.0) == pytest.approx(0.0, abs=1e-12)
    # a(v) = a (1 - (v/v0)^4) on a free road.
    assert acc(20.0, np.inf, 0.0) == pytest.approx(A * (1 - (20.0 / V0) ** 4))


def test_above_the_desired_speed_the_free_road_term_is_iidm_and_never_brakes_past_b() -> None:
    # IIDM (Treiber & Kesting 2013): a_free = -b [1 - (v0/v)^(a delta / b)] for v > v0.
    v = 1.5 * V0
    assert acc(v, np.inf, 0.0) == pytest.approx(-B * (1 - (1 / 1.5) ** (A * 4.0 / B)))
    # The original term would brake at a (1 - 1.5^4) = -6.1 m/s2 for a speed advice 2/3 of v.
    assert acc(v, np.inf, 0.0) > -B
    assert acc(10 * V0, np.inf, 0.0) >= -B
    # Continuous at v0 (both branches are 0 there).
    assert acc(V0 * (1 + 1e-9), np.inf, 0.0) == pytest.approx(0.0, abs=1e-6)


@given(st.floats(min_value=V0 * 1.001, max_value=V0 * 5), st.floats(min_value=2.0, max_value=500))
def test_above_v0_the_vehicle_decelerates_and_no_harder_than_with_a_free_road(v: float,
                                                                             gap: float) -> None:
    assert acc(v, np.inf, 0.0) < 0.0
    assert acc(v, gap, 0.0) <= acc(v, np.inf, 0.0)


@given(st.floats(min_value=0.5, max_value=V0 * 0.99))
def test_equilibrium_gap_gives_zero_acceleration(v: float) -> None:
    gap = equilibrium_gap_m(np.array(v), np.array(V0), np.array(T), np.array(S0))
    assert acc(v, gap, 0.0) == pytest.approx(0.0, abs=1e-9)


def test_desired_gap_closed_form() -> None:
    v, dv = 20.0, 5.0
    expected = S0 + v * T + v * dv / (2 * np.sqrt(A * B))
    assert desired_gap_m(np.array(v), np.array(dv), np.array(T), np.array(A), np.array(B),
                         np.array(S0)) == pytest.approx(expected)


def test_approaching_a_standstill_obstacle_brakes_hard_but_bounded() -> None:
    a = acc(30.0, 20.0, 30.0)
    assert -9.0 <= a < -8.0


def test_ballistic_update_closed_form_and_stops_without_reversing() -> None:
    s, v = ballistic_update(np.array([0.0]), np.array([10.0]), np.array([2.0]), 0.5)
    assert s[0] == pytest.approx(10.0 * 0.5 + 0.5 * 2.0 * 0.25) and v[0] == pytest.approx(11.0)
    s, v = ballistic_update(np.array([0.0]), np.array([1.0]), np.array([-4.0]), 1.0)
    assert v[0] == 0.0 and s[0] == pytest.approx(1.0 / 8.0)  # stops after v^2 / 2b


def test_platoon_converges_to_the_equilibrium_gap() -> None:
    """A follower behind a leader at constant speed settles at s_e(v), the IDM closed form."""
    dt, v_lead = 0.1, 20.0
    s_lead, s_f, v_f = 100.0, 0.0, 15.0
    for _ in range(3000):
        gap = s_lead - 5.0 - s_f
        a = acc(v_f, gap, v_f - v_lead)
        (s_f,), (v_f,) = ballistic_update(np.array([s_f]), np.array([v_f]), np.atleast_1d(a), dt)
        s_lead += v_lead * dt
    expected = equilibrium_gap_m(np.array(v_lead), np.array(V0), np.array(T), np.array(S0))
    assert v_f == pytest.approx(v_lead, abs=1e-3)
    assert s_lead - 5.0 - s_f == pytest.approx(float(expected), rel=1e-3)


@given(st.floats(min_value=0.0, max_value=V0 * 0.999))
def test_equilibrium_speed_inverts_the_equilibrium_gap(v: float) -> None:
    gap = equilibrium_gap_m(np.array(v), np.array(V0), np.array(T), np.array(S0))
    back = equilibrium_speed_mps(np.array([gap]), np.array([V0]), np.array([T]), np.array([S0]))
    assert back[0] == pytest.approx(v, abs=1e-6)
