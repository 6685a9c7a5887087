"""The reports as a reader sees them: build the Evidence site on a sample warehouse, serve it
on 127.0.0.1 and open every page in headless Chromium (reports/tests/browse.mjs drives it
with puppeteer-core). A page fails on a console error, an uncaught exception, a failed
request, an error box where a component's query failed, or a chart left undrawn. A
screenshot of each page goes to build/screenshots/ (look at them).

Needs Chromium at /usr/bin/chromium (Debian: apt-get install -y chromium) and the npm
packages of reports/ (make setup).
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest

from tests.pipeline import DBT, REPO, dbt, ingest, query, run, warehouse_env

CHROMIUM = Path("/usr/bin/chromium")
REPORTS = REPO / "reports"
SCREENSHOTS = REPO / "build" / "screenshots"
AS_OF = "2026-11-20"  # the Makefile's TEST_AS_OF: the same sample world as `make test`
PAGES = ["/", "/ticker/", "/portfolio/", "/transactions/", "/data-quality/", "/pipeline-health/"]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no Chromium at {CHROMIUM}: apt-get install -y chromium (Debian) to run the "
        "browser test of the reports",
    ),
]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> dict[str, object]:
    """Sample warehouse -> dbt build and freshness -> reports build -> served on 127.0.0.1."""
    folder = tmp_path_factory.mktemp("reports")
    env = warehouse_env(folder)
    ingest(env, "sample", "--as-of", AS_OF)
    dbt(env, "build")
    # Freshness is measured against today, so the pinned sample may be stale: that is a
    # result for the data-quality page to show, not a failure of this test.
    subprocess.run(
        [str(DBT), "source", "freshness", "--target", "ci"],
        cwd=REPO, env=env, capture_output=True, timeout=300, check=False,
    )  # fmt: skip
    build_env = env | {"EVIDENCE_SOURCE__warehouse__filename": env["WAREHOUSE_PATH"]}
    build_output = run(["bash", str(REPORTS / "scripts/build.sh")], build_env, timeout=900)

    # Serve a copy: a `make reports` elsewhere must not change the files under the browser.
    served = folder / "site"
    shutil.copytree(REPORTS / "build", served)
    handler = functools.partial(_QuietHandler, directory=str(served))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    try:
        yield {
            "env": env,
            "root": served,
            "base": f"http://127.0.0.1:{server.server_port}",
            "build_output": build_output,
        }
    finally:
        server.shutdown()
        server.server_close()


def browse(site: dict[str, object], *args: str) -> dict:
    """Run reports/tests/browse.mjs; return its JSON report."""
    result = subprocess.run(
        ["node", "tests/browse.mjs", "--base", str(site["base"]), "--out", str(SCREENSHOTS),
         "--chromium", str(CHROMIUM), *args],
        cwd=REPORTS, capture_output=True, text=True, timeout=600,
        env=os.environ | {"NODE_OPTIONS": ""},
    )  # fmt: skip
    assert result.returncode == 0, f"browse.mjs failed:\n{result.stderr[-4000:]}"
    return json.loads(result.stdout)


def built_pages(root: Path) -> list[str]:
    """URL paths of the built pages: every index.html but Evidence's own (api/, _app/)."""
    folders = [page.parent.relative_to(root).parts for page in root.rglob("index.html")]
    return sorted(
        "/" + "".join(f"{part}/" for part in parts)
        for parts in folders
        if not parts or parts[0] not in {"_app", "api", "data"}
    )


@pytest.fixture(scope="module")
def visits(site) -> dict[str, dict]:
    """Every built page, opened once; results by path."""
    pages = built_pages(site["root"])
    return {page["path"]: page for page in browse(site, "--concurrency", "3", *pages)["pages"]}


def test_every_page_and_every_ticker_page_is_built(site) -> None:
    tickers = [row[0] for row in query(site["env"], "select ticker from marts.dim_tickers")]
    expected = set(PAGES) | {f"/ticker/{ticker}/" for ticker in tickers}
    assert len(tickers) == 20
    assert expected <= set(built_pages(site["root"]))


def test_every_page_opens_without_an_error(visits) -> None:
    problems = {
        path: {
            kind: page[kind]
            for kind in ("consoleErrors", "pageErrors", "failedRequests", "errorBoxes")
            if page[kind]
        }
        | ({"status": page["status"]} if page["status"] != 200 else {})
        for path, page in visits.items()
    }
    problems = {path: found for path, found in problems.items() if found}
    assert not problems, json.dumps(problems, indent=1)[:6000]


def test_every_chart_is_drawn(visits) -> None:
    undrawn = {
        path: page["unsettled"] or f"{page['chartsWithoutCanvas']} charts without a canvas"
        for path, page in visits.items()
        if page["chartsWithoutCanvas"] or any("loading" in late for late in page["unsettled"])
    }
    assert not undrawn, undrawn
    # The pages whose answer is a picture have their charts (candles + panels, intraday; ...).
    assert visits["/ticker/SPY/"]["charts"] == 2
    assert visits["/"]["charts"] >= 3
    assert visits["/portfolio/"]["charts"] >= 3
    assert visits["/pipeline-health/"]["charts"] >= 3


def test_every_page_opens_with_its_answer_in_numbers(visits) -> None:
    for path, page in visits.items():
        sentence = page["firstParagraph"] or ""
        assert any(character.isdigit() for character in sentence), (path, sentence)
    assert visits["/"]["firstParagraph"].startswith("On November 20, 2026, SPY closed at $")
    assert visits["/ticker/AAPL/"]["h1"] == "AAPL: Apple Inc."
    assert " bp from the session's running VWAP" in visits["/ticker/AAPL/"]["firstParagraph"]


def test_every_page_has_a_screenshot(visits) -> None:
    for path, page in visits.items():
        screenshot = Path(page["screenshot"])
        assert screenshot.parent == SCREENSHOTS
        assert screenshot.stat().st_size > 20_000, path  # a blank 1400 px page is ~5 kB


def test_picking_another_account_changes_the_numbers(site) -> None:
    picked = browse(site, "--select-account", "/portfolio/")["selection"]
    assert not picked["consoleErrors"] and not picked["pageErrors"] and not picked["errorBoxes"]
    before, after = picked["selectedBefore"], picked["selectedAfter"]
    assert "ACC-1001" in before and after != before
    account = after.splitlines()[-1].split(" (")[0]  # "Account\nACC-2001 (EUR)" -> "ACC-2001"
    assert f"account {account} was worth" in picked["firstParagraph"]
    assert picked["before"] != picked["after"]


# --- Issue 18: pages an analyst trusts at a glance ---------------------------------------


def page_queries(page: str) -> dict[str, str]:
    """The ```sql name``` blocks of a page, with ${other} references inlined as subqueries."""
    text = (REPORTS / "pages" / page).read_text()
    blocks = dict(re.findall(r"```sql (\w+)\n(.*?)```", text, re.S))
    return {
        name: re.sub(r"\$\{(\w+)\}", lambda ref: f"({blocks[ref.group(1)]})", sql)
        for name, sql in blocks.items()
    }


def reports_db(warehouse: str | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory database whose schema `warehouse` holds every source query's result, as
    the pages see it (or only an empty schema without a warehouse)."""
    con = duckdb.connect()
    con.execute("create schema warehouse")
    if warehouse:
        con.execute(f"attach '{warehouse}' as wh (read_only)")
        con.execute("use wh")
        for source in sorted((REPORTS / "sources" / "warehouse").glob("*.sql")):
            con.execute(f"create table memory.warehouse.{source.stem} as {source.read_text()}")
        con.execute("use memory")
    return con


def test_every_page_says_the_data_is_the_synthetic_sample(visits) -> None:
    missing = [path for path, page in visits.items() if not page["banner"]]
    assert not missing, f"no sample banner on {missing}"
    banner = visits["/"]["banner"]
    assert banner.startswith("Synthetic sample data — not real prices."), banner
    assert "sample_market" in banner


def test_real_data_gets_no_sample_banner() -> None:
    """The banner's source says sample only when the audit table has the sample's runs."""
    con = reports_db()
    con.execute(
        "create schema marts; create table marts.fct_prices_daily (trade_date date); "
        "create table marts.fct_pipeline_runs (pipeline varchar, source varchar, "
        "rows_written bigint)"
    )
    con.execute("insert into marts.fct_pipeline_runs values ('yfinance', 'yahoo_finance', 1200)")
    provenance = (REPORTS / "sources/warehouse/data_provenance.sql").read_text()
    row = con.execute(
        f"select has_sample_data, has_provider_market_data from ({provenance})"
    ).fetchone()
    assert row == (False, True)
    con.execute("insert into marts.fct_pipeline_runs values ('sample_market', 'sample', 10)")
    assert con.execute(f"select has_sample_data from ({provenance})").fetchone() == (True,)


def test_the_header_names_the_project_not_evidence(visits) -> None:
    for path, page in visits.items():
        assert "Market-data warehouse" in (page["header"] or ""), (path, page["header"])
        assert not any("wordmark" in (image or "") for image in page["headerImages"]), path


def test_no_negative_zero_and_no_raw_codes_on_any_page(visits) -> None:
    # "-0.0%" or "-0.00%" (a hyphen or a minus sign, U+2212): a change too small to show.
    negative_zero = re.compile("[-\u2212]0(\\.0+)?\\s?%")
    found = {
        path: sorted({match.group(0) for match in negative_zero.finditer(page["text"])})
        for path, page in visits.items()
    }
    found = {path: texts for path, texts in found.items() if texts}
    assert not found, found
    # Reason codes are shown in words (the labels of reason_labels.sql).
    codes = ("non_positive_quantity", "future_timestamp", "price_outside_session_range",
             "outside_session", "open_or_close_outside_range", "negative_volume")  # fmt: skip
    for path in ("/transactions/", "/data-quality/"):
        # As a word of its own: the sample's ids name their planted fault (BAD-outside_session).
        text = visits[path]["text"]
        shown = [code for code in codes if re.search(rf"(?<![\w-]){code}\b", text)]
        assert not shown, (path, shown)
    transactions = visits["/transactions/"]["text"]
    assert "quantity zero or negative" in transactions
    # Anomaly details without raw floats (3+ decimals) and without UTC times.
    anomalies = transactions.split("\nAnomalies\n")[-1]
    assert not re.search(r"\d\.\d{3,}", anomalies), re.findall(r"\S*\d\.\d{3,}\S*", anomalies)[:5]
    assert " UTC" not in anomalies


def test_volume_figures_share_one_unit_across_tables(visits) -> None:
    text = visits["/"]["text"]
    # Dollar volume in billions everywhere ($19.0B), never millions ($18,954M); shares in millions.
    assert not re.search(r"\$[\d,]+M\b", text), re.findall(r"\$[\d,]+M\b", text)[:5]
    assert re.search(r"\$\d+\.\dB", text)
    assert not re.search(r"\b\d{1,3},\d{3},\d{3}\b", text), "a share count in full digits"


def test_data_tests_passed_agrees_with_recent_builds(site, visits) -> None:
    queries = page_queries("data-quality.md")
    con = reports_db(site["env"]["WAREHOUSE_PATH"])
    headline = con.execute(f"select tests_passed from ({queries['last_build']})").fetchone()[0]
    latest_build = con.execute(
        f"select tests_passed, coalesce(models_failed, -1) "
        f"from ({queries['build_history']}) limit 1"
    ).fetchone()
    assert headline == latest_build[0] and headline > 0
    assert latest_build[1] == 0  # a zero is 0, not a null shown as "-"
    assert "Data tests passed" in visits["/data-quality/"]["text"]


def test_pipeline_health_of_the_sample_does_not_alarm(visits) -> None:
    sentence = visits["/pipeline-health/"]["firstParagraph"]
    assert "landed late" not in sentence and "is the synthetic sample" in sentence, sentence
    assert "minutes after" not in visits["/pipeline-health/"]["text"]


def test_failed_tickers_are_grouped_by_reason() -> None:
    """An outage that fails every ticker is one line with a count, not one line per ticker."""
    con = reports_db()
    outage = "provider unreachable: cannot reach query2.finance.yahoo.com:443; check the network"
    reason = f"1d: {outage}; 1m: {outage}; metadata: {outage}"
    con.execute(
        "create table warehouse.pipeline_failed_tickers as select 'run-1' as run_id, "
        "'yfinance' as pipeline, timestamp '2026-11-20 22:00' as started_at_utc, "
        "date '2026-11-20' as run_date, 'T' || i as ticker, ? as reason from range(119) as t(i) "
        "union all select 'run-1', 'yfinance', timestamp '2026-11-20 22:00', date '2026-11-20', "
        "'ODD', '1d: no data returned for the range'",
        [reason],
    )
    grouped = page_queries("pipeline-health.md")["failures_by_reason"]
    rows = con.execute(f"select summary, tickers, ticker_list, detail from ({grouped})").fetchall()
    assert [row[0] for row in rows] == [
        "provider unreachable: 119 tickers",
        "no data returned for the range: 1 ticker",
    ]
    assert rows[0][2].endswith("and 107 more")
    assert rows[0][3] == outage


def test_the_ticker_pages_volume_is_split_adjusted(site, visits) -> None:
    split = query(
        site["env"],
        "select trade_date, split_ratio from marts.fct_prices_daily where ticker = 'AAPL' "
        "and split_ratio <> 1 order by trade_date desc limit 1",
    )
    assert split, "the sample has an AAPL split"
    split_day, ratio = split[0]
    chart = visits["/ticker/AAPL/"]["volumeChart"]
    assert chart, "no volume pane drawn on the AAPL page"
    dates = [str(day)[:10] for day in chart["dates"]]
    before = dates.index(str(split_day)) - 1
    raw = query(
        site["env"],
        "select volume from marts.fct_prices_daily "
        f"where ticker = 'AAPL' and trade_date = '{dates[before]}'",
    )[0][0]
    # The bar before the split is drawn in today's shares: as traded x the split ratio.
    assert chart["volume"][before] == pytest.approx(raw * ratio)


def test_the_build_says_what_it_does_and_how_to_view_it(site) -> None:
    output = site["build_output"]
    assert "npm run preview" not in output
    for step in ("[1/3]", "[2/3] sources:", "[3/3] pages:"):
        assert step in output, step
    assert re.search(r"build\.sh: built \d+ pages into .* in (\d+m )?\d+s", output), output[-2000:]
    assert output.rstrip().splitlines()[-1].startswith("build.sh: view them: make reports-serve")
