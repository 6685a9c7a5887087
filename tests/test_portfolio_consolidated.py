"""All accounts together in the reporting currency (issue 14): the FX rates, the accounts in
USD, the consolidated NAV, its returns and the benchmark in one currency, each recomputed
here from what dbt did not make (the raw FX closes) or checked with an independent XIRR.
Reads the shared sample build (conftest's sample_build): no build of its own."""

from __future__ import annotations

import bisect
from collections import defaultdict
from datetime import date

import pytest

from tests.pipeline import query
from tests.test_portfolio import xirr

REPORTING = "USD"


@pytest.fixture(scope="module")
def eurusd(sample_build) -> tuple[list[date], list[float]]:
    """The sample's EURUSD=X closes as loaded (raw), by London day."""
    closes = query(
        sample_build,
        "select trade_date, close from raw_yfinance.bars_1d "
        "where ticker = 'EURUSD=X' order by trade_date",
    )
    return [d for d, _ in closes], [c for _, c in closes]


def rate_on(eurusd: tuple[list[date], list[float]], day: date) -> float:
    """The close of the latest FX day at or before `day`."""
    days, closes = eurusd
    return closes[bisect.bisect_right(days, day) - 1]


def test_fx_rows_stay_out_of_the_equity_marts(sample_build) -> None:
    for mart in (
        "dim_tickers",
        "fct_prices_daily",
        "fct_quarantined_bars",
        "fct_price_features_daily",
        "fct_flagged_bars",
    ):
        pairs = query(sample_build, f"select count(*) from marts.{mart} where ticker like '%=X'")
        assert pairs == [(0,)], mart
    # the sample's pair has a bar on US holidays; none of them is a quarantined "bar off session"
    holidays = query(
        sample_build,
        "select count(*) from raw_yfinance.bars_1d where ticker = 'EURUSD=X' and trade_date in "
        "('2025-11-27', '2025-12-25', '2026-07-03')",
    )
    assert holidays == [(3,)]


def test_every_session_rate_is_the_latest_close_at_or_before_it(sample_build, eurusd) -> None:
    rows = query(
        sample_build,
        "select currency, session_date, rate_to_reporting, rate_date, conversion_route, "
        "is_rate_stale from marts.fct_fx_rates_daily order by currency, session_date",
    )
    by_currency = defaultdict(list)
    for row in rows:
        by_currency[row[0]].append(row)
    assert set(by_currency) == {"EUR", "USD"}
    assert all(r[2] == 1 and r[3] == r[1] and r[4] == "identity" for r in by_currency["USD"])
    for _, session, rate, rate_date, route, stale in by_currency["EUR"]:
        assert rate == rate_on(eurusd, session) and rate_date <= session
        assert route == "direct" and not stale
    accounts = query(sample_build, "select min(session_date) from marts.fct_portfolio_daily")
    assert by_currency["EUR"][0][1] == accounts[0][0]


def test_consolidated_nav_is_the_accounts_at_the_days_rate(sample_build, eurusd) -> None:
    """consolidated NAV = sum over accounts of NAV x FX, per session, with the rate taken from
    the raw closes here."""
    expected: dict[date, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    for _, day, currency, nav, flow in query(
        sample_build,
        "select account_id, session_date, base_currency, nav, external_flow "
        "from marts.fct_portfolio_daily",
    ):
        rate = 1.0 if currency == REPORTING else rate_on(eurusd, day)
        expected[day][0] += float(nav) * rate
        expected[day][1] += float(flow) * rate
        expected[day][2] += 1
    consolidated = query(
        sample_build,
        "select session_date, nav, external_flow, account_count "
        "from marts.fct_portfolio_consolidated_daily",
    )
    assert {d for d, *_ in consolidated} == set(expected)
    for day, nav, flow, accounts in consolidated:
        total_nav, total_flow, count = expected[day]
        assert accounts == count
        assert float(nav) == pytest.approx(total_nav, abs=1e-4 * count), day
        assert float(flow) == pytest.approx(total_flow, abs=1e-4 * count), day


def test_the_eur_account_is_in_usd_and_compared_with_spy_in_eur(sample_build, eurusd) -> None:
    rows = query(
        sample_build,
        "select p.session_date, p.nav, p.nav_reporting, p.spy_daily_return, b.adj_close, "
        "lag(b.adj_close) over (order by p.session_date) "
        "from marts.fct_portfolio_daily p join marts.fct_prices_daily b "
        "on b.ticker = 'SPY' and b.trade_date = p.session_date "
        "where p.account_id = 'ACC-2001' order by p.session_date",
    )
    assert rows
    previous_day = None
    for day, nav, nav_usd, spy_eur, close, previous_close in rows:
        assert float(nav_usd) == pytest.approx(float(nav) * rate_on(eurusd, day), abs=1e-4)
        if previous_close is not None:
            move = rate_on(eurusd, previous_day) / rate_on(eurusd, day)  # USD in EUR, today/then
            assert spy_eur == pytest.approx(close / previous_close * move - 1, abs=1e-12), day
        previous_day = day


def check_period_returns(history: list[tuple], returns: list[tuple]) -> int:
    """Each (period, twr, irr) of `returns` against `history` ((day, nav, flow, daily return)
    per session): the TWR is the chained daily returns, the IRR the independent Newton XIRR of
    the flows (NAV before the period in, external flows, NAV at its end out) to 1e-6.
    Returns how many IRRs were compared."""
    compared = 0
    for period, twr, irr in returns:
        inside = [i for i, d in enumerate(history) if period in ("since_inception", str(d[0].year))]
        sessions = [history[i] for i in inside]
        flows = [(d[0], -d[2]) for d in sessions if d[2] != 0]
        if inside[0] > 0 and history[inside[0] - 1][1] != 0:
            flows.append((history[inside[0] - 1][0], -history[inside[0] - 1][1]))
        flows.append((sessions[-1][0], sessions[-1][1]))
        chained = 1.0
        for session in sessions:
            chained *= 1 + session[3]
        assert twr == pytest.approx(chained - 1, abs=1e-9), period
        if irr is None:
            assert not any(a < 0 for _, a in flows) or len({d for d, _ in flows}) == 1, period
            continue
        assert irr == pytest.approx(xirr(flows), abs=1e-6), (period, flows)
        compared += 1
    return compared


def test_the_consolidated_xirr_agrees_with_an_independent_one(sample_build) -> None:
    """The consolidated portfolio's periods, rebuilt from fct_portfolio_consolidated_daily."""
    history = [
        (day, float(nav), float(flow), daily_return or 0.0)
        for day, nav, flow, daily_return in query(
            sample_build,
            "select session_date, nav, external_flow, daily_return "
            "from marts.fct_portfolio_consolidated_daily order by session_date",
        )
    ]
    returns = query(
        sample_build,
        "select period, time_weighted_return, money_weighted_return "
        "from marts.fct_portfolio_consolidated_returns",
    )
    years = {str(d.year) for d, *_ in history}
    assert {p for p, *_ in returns} == {"since_inception"} | years
    assert check_period_returns(history, returns) == len(returns)


def test_each_accounts_returns_in_usd_agree_with_an_independent_xirr(sample_build) -> None:
    """fct_portfolio_returns' *_reporting columns, rebuilt from fct_portfolio_daily's NAV,
    flows and daily returns in USD; the EUR account's differ from its own-currency ones."""
    compared = 0
    for (account,) in query(
        sample_build, "select distinct account_id from marts.fct_portfolio_daily"
    ):
        history = [
            (day, float(nav), float(flow), daily_return or 0.0)
            for day, nav, flow, daily_return in query(
                sample_build,
                "select session_date, nav_reporting, external_flow_reporting, "
                "daily_return_reporting from marts.fct_portfolio_daily "
                f"where account_id = '{account}' order by session_date",
            )
        ]
        returns = query(
            sample_build,
            "select period, time_weighted_return_reporting, money_weighted_return_reporting "
            f"from marts.fct_portfolio_returns where account_id = '{account}'",
        )
        compared += check_period_returns(history, returns)
    assert compared >= 10
    ((own, in_usd),) = query(
        sample_build,
        "select time_weighted_return, time_weighted_return_reporting "
        "from marts.fct_portfolio_returns where account_id = 'ACC-2001' and is_since_inception",
    )
    assert abs(own - in_usd) > 0.01


def test_the_consolidated_month_grid_chains_to_its_years(sample_build) -> None:
    months = query(
        sample_build,
        "select return_year, product(1 + time_weighted_return) - 1 "
        "from marts.fct_portfolio_consolidated_returns_monthly group by return_year",
    )
    years = dict(
        query(
            sample_build,
            "select cast(period as integer), time_weighted_return "
            "from marts.fct_portfolio_consolidated_returns where not is_since_inception",
        )
    )
    assert len(months) == len(years) >= 3
    for year, chained in months:
        assert chained == pytest.approx(years[year], abs=1e-9), year
