"""The reports as a reader sees them: build the Evidence site on a sample warehouse, serve it
on 127.0.0.1 and open every page in headless Chromium (reports/tests/browse.mjs drives it
with puppeteer-core; the ticker pages after the first by in-app navigation, as a reader
clicking through them, which saves starting DuckDB-Wasm 19 times). A page fails on a console
error, an uncaught exception, a failed request, an error box where a component's query
failed, or a chart left undrawn. A screenshot of each page goes to build/screenshots/ (look
at them), with each page's timings in timings.json.

Needs Chromium at /usr/bin/chromium (Debian: apt-get install -y chromium) and the npm
packages of reports/ (make setup).
"""

from __future__ import annotations

import collections
import functools
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from datetime import date
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest

from ingest.warehouse import WarehouseError, acquire_writer_lock
from tests.pipeline import DBT, REPO, query

CHROMIUM = Path("/usr/bin/chromium")
REPORTS = REPO / "reports"
SCREENSHOTS = REPO / "build" / "screenshots"
PAGES = ["/", "/ticker/", "/portfolio/", "/transactions/", "/data-quality/", "/pipeline-health/",
         "/intraday-session/"]  # fmt: skip

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
def site(copy_of_sample_build, tmp_path_factory) -> dict[str, object]:
    """The sample build (a copy) -> freshness -> reports build -> served on 127.0.0.1."""
    folder = tmp_path_factory.mktemp("reports")
    env = copy_of_sample_build
    # Freshness is measured against today, so the pinned sample may be stale: that is a
    # result for the data-quality page to show, not a failure of this test.
    subprocess.run(
        [str(DBT), "source", "freshness", "--target", "ci"],
        cwd=REPO, env=env, capture_output=True, timeout=300, check=False,
    )  # fmt: skip
    build_env = env | {"EVIDENCE_SOURCE__warehouse__filename": env["WAREHOUSE_PATH"]}
    # As `make reports` runs it: holding the warehouse's writer lock (ingest with-lock), its
    # output to a file, so that this waits for the build's process and not, as a pipe would,
    # for every process that still holds the output open.
    log = folder / "build.log"
    with log.open("w") as out:
        built = subprocess.run(
            [sys.executable, "-m", "ingest", "with-lock", "--",
             "bash", str(REPORTS / "scripts/build.sh")],
            cwd=REPO, env=build_env, stdout=out, stderr=subprocess.STDOUT, timeout=900,
        )  # fmt: skip
    build_output = log.read_text()
    assert built.returncode == 0, f"the reports build failed:\n{build_output[-4000:]}"
    # The next writer can start the moment the build returns (make demo, then make replay).
    try:
        fd = acquire_writer_lock(Path(env["WAREHOUSE_PATH"]), "test_reports")
        lock_after_build = "free"
        if fd is not None:
            os.close(fd)
    except WarehouseError as error:
        lock_after_build = str(error)

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
            "lock_after_build": lock_after_build,
        }
    finally:
        server.shutdown()
        server.server_close()


def test_the_build_leaves_the_writer_lock_free_when_it_returns(site) -> None:
    """Nothing the build started outlives it holding the lock (its heartbeat's `sleep` did,
    for up to 20 s: `make replay` right after `make demo` was refused)."""
    assert site["lock_after_build"] == "free"


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
def browsed(site) -> dict:
    """Every built page opened once in one browser, and another account picked on the
    portfolio page and each period button clicked on AAPL's chart after their visits. The
    ticker pages after the first are opened by in-app
    navigation (browse.mjs says why: DuckDB-Wasm starts once per tab, not once per page);
    every page is also opened in a phone-wide tab. Each page's phase timings go to
    build/screenshots/timings.json."""
    pages = built_pages(site["root"])
    report = browse(site, "--concurrency", "3", "--navigate-under", "/ticker/", "--phone",
                    "--select-account", "/portfolio/", "--click-periods", "/ticker/AAPL/",
                    *pages)  # fmt: skip
    timings = [
        {key: page[key] for key in ("path", "opened", "seconds", "phases")}
        | {"phone": {key: page["phone"][key] for key in ("opened", "seconds", "phases")}}
        for page in report["pages"]
    ]
    (SCREENSHOTS / "timings.json").write_text(json.dumps(timings, indent=1))
    return report


@pytest.fixture(scope="module")
def visits(browsed) -> dict[str, dict]:
    """Every built page, opened once; results by path."""
    return {page["path"]: page for page in browsed["pages"]}


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
        # 304: Chromium revalidated a page it had cached earlier in the run (the served
        # site sends Last-Modified), which is the page, unchanged; seen once on "/"
        | ({"status": page["status"]} if page["status"] not in (200, 304) else {})
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


SIGNED_PERCENT = "'+0.00%;-0.00%;0.00%'"


def test_a_return_in_a_headline_tile_carries_its_sign_as_the_sentences_do() -> None:
    """The opening sentences write returns signed (+22.31%); a tile beside them that wrote
    22.31% read as another number. Every BigValue whose value is a return uses the signed
    format (read from the pages' source, so a positive return on the sample is not needed)."""
    tiles = [
        (page.relative_to(REPORTS / "pages"), tile)
        for page in sorted((REPORTS / "pages").rglob("*.md"))
        for tile in re.findall(r"<BigValue\b[^>]*>", page.read_text())
    ]
    # a drawdown is a distance below the peak, not a return: it stays as it is
    is_return = re.compile(r"value=(?!\w*drawdown)\w*return\w*\b")
    returns = [(page, tile) for page, tile in tiles if is_return.search(tile)]
    assert len(returns) >= 5, returns  # the home page's, the ticker page's, the portfolio's
    unsigned = [(str(page), tile) for page, tile in returns if f"fmt={SIGNED_PERCENT}" not in tile]
    assert unsigned == []


def test_every_page_has_a_screenshot(visits) -> None:
    for path, page in visits.items():
        screenshot = Path(page["screenshot"])
        assert screenshot.parent == SCREENSHOTS
        assert screenshot.stat().st_size > 20_000, path  # a blank 1400 px page is ~5 kB


def test_every_template_is_opened_by_its_url_at_least_once(visits) -> None:
    """Pages reached by in-app navigation skip their own HTML: each template must still be
    loaded and hydrated from a URL once, and only the ticker pages may be navigated to."""
    opened_by_url = {path for path, page in visits.items() if page["opened"] == "url"}
    ticker_pages = {path for path in visits if re.fullmatch(r"/ticker/[^/]+/", path)}
    assert set(visits) - ticker_pages <= opened_by_url
    assert ticker_pages & opened_by_url, "no ticker page opened by its URL"


def test_picking_another_account_changes_the_numbers(browsed) -> None:
    picked = browsed["selection"]
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


# Sources that still query the marts, each with its owner: to become reporting views.
SOURCES_NOT_YET_VIEWS: dict[str, str] = {}


def test_each_source_is_one_select_of_its_reporting_view() -> None:
    """The logic lives in dbt (tested, linted, in the lineage): an Evidence source only names
    its view, dbt_project/models/reporting/rpt_<source>.sql."""
    models = REPO / "dbt_project" / "models" / "reporting"
    sources = sorted((REPORTS / "sources" / "warehouse").glob("*.sql"))
    assert len(sources) > 20
    assert set(SOURCES_NOT_YET_VIEWS) <= {source.stem for source in sources}
    for source in sources:
        if source.stem in SOURCES_NOT_YET_VIEWS:
            continue
        view = f"rpt_{source.stem}"
        assert source.read_text().strip() == f"select * from reporting.{view}", source.name
        assert (models / f"{view}.sql").is_file(), view


def test_every_source_holds_every_row_of_its_view(site) -> None:
    """The build streams each source's rows into the site's parquet file: a stream cut short
    (an unsorted union's ended after two of its three parts) shows the pages part of the data,
    and an empty view still gets its file."""
    data = Path(site["root"]) / "data" / "warehouse"
    con = duckdb.connect()
    short = {}
    for source in sorted((REPORTS / "sources" / "warehouse").glob("*.sql")):
        files = sorted((data / source.stem).glob(f"*/{source.stem}.parquet"))
        assert len(files) == 1, (source.stem, files)
        written = con.execute("select count(*) from read_parquet(?)", [str(files[0])]).fetchone()
        view = query(site["env"], f"select count(*) from ({source.read_text()})")[0]
        if written != view:
            short[source.stem] = (written[0] if written else None, view[0])
    assert not short, short


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


def test_failed_items_are_grouped_by_reason_in_the_runs_words() -> None:
    """An outage that fails every ticker is one line with a count, not one line per ticker;
    a broker run's failed file is counted as a file."""
    con = reports_db()
    outage = "provider unreachable: cannot reach query2.finance.yahoo.com:443; check the network"
    reason = f"1d: {outage}; 1m: {outage}; metadata: {outage}"
    con.execute(
        "create table warehouse.pipeline_failed_items as select 'run-1' as run_id, "
        "'yfinance' as pipeline, timestamp '2026-11-20 22:00' as started_at_utc, "
        "date '2026-11-20' as run_date, 'tickers' as item_kind, 'T' || i as item, "
        "? as reason from range(119) as t(i) "
        "union all select 'run-1', 'yfinance', timestamp '2026-11-20 22:00', date '2026-11-20', "
        "'tickers', 'ODD', '1d: no data returned for the range' "
        "union all select 'run-2', 'brokerage_csv', timestamp '2026-11-20 21:00', "
        "date '2026-11-20', 'files', 'ibkr/activity.csv', 'no header row'",
        [reason],
    )
    grouped = page_queries("pipeline-health.md")["failures_by_reason"]
    rows = con.execute(f"select summary, items, item_list, detail from ({grouped})").fetchall()
    assert [row[0] for row in rows] == [
        "provider unreachable: 119 tickers",
        "no data returned for the range: 1 ticker",
        "no header row: 1 file",
    ]
    assert rows[0][2].endswith("and 107 more")
    assert rows[0][3] == outage
    assert rows[2][2] == "ibkr/activity.csv"


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


def test_the_freshness_table_shows_age_and_thresholds(visits) -> None:
    # The fixture ran `dbt source freshness` on the pinned sample: its market data is stale
    # by now, its brokerage and audit tables fresh (loaded today).
    section = visits["/data-quality/"]["text"].split("\nFreshness\n")[-1]
    assert "Age at the check" in section and "Thresholds" in section
    assert "warn after 4 days, error after 7 days" in section  # raw_yfinance's, from its YAML
    age = r"\d+ (d \d+ h|h \d+ min)"
    verdict = r"(fresh|stale \((warn|error)\))"
    assert re.search(rf"\bbars_1d\s+{verdict}\s+{age}\s+2026-11-2\d", section), section[:1500]
    assert re.search(rf"\bruns\s+fresh\s+{age}", section), section[:1500]


def test_make_demo_runs_freshness_before_the_reports() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("WAREHOUSE_PATH", "MAKEFLAGS")}
    demo = subprocess.run(["make", "-n", "demo"], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120, check=True).stdout  # fmt: skip
    build, freshness, reports = (
        demo.find("dbt build"), demo.find("dbt source freshness"), demo.find("scripts/build.sh")
    )  # fmt: skip
    assert -1 < build < freshness < reports, demo[-3000:]


def test_the_ticker_chart_marks_splits_and_dividends_in_its_currency(site, visits) -> None:
    chart = visits["/ticker/AAPL/"]["priceChart"]
    assert chart, "no price chart drawn on the AAPL page"
    first_day = min(visits["/ticker/AAPL/"]["volumeChart"]["dates"])
    actions = query(
        site["env"],
        "select trade_date, split_ratio, dividend_per_share from marts.fct_prices_daily "
        f"where ticker = 'AAPL' and trade_date >= '{first_day}' "
        "and (split_ratio <> 1 or dividend_per_share > 0) order by trade_date",
    )
    splits = [(str(day), f"{ratio:g}:1 split") for day, ratio, _ in actions if ratio != 1]
    dividends = [str(day) for day, _, dividend in actions if dividend > 0]
    assert splits and dividends, "the sample's AAPL has a split and dividends in the last year"
    assert [tuple(mark) for mark in chart["splits"]] == splits
    assert [mark[0] for mark in chart["dividends"]] == dividends
    day, _, amount = next(action for action in actions if action[2] > 0)
    assert chart["dividends"][0][1] == f"Ex-dividend {day}: ${amount:.2f} a share"
    # The price axis is in the ticker's currency (dim_tickers.price_currency: USD for AAPL).
    assert chart["priceLabel123"] == "$123"
    assert "USD" in chart["title"]


def test_stale_data_is_flagged_where_its_date_is_shown(visits) -> None:
    """The pinned sample ends 2026-11-20: by any later day it is stale, and says so; the
    brokerage sample's planted future transaction makes its run's data-through a future date."""
    assert re.fullmatch(
        r"Data through 2026-11-20: \d+ days ago, stale \(nothing newer has been loaded\)\.",
        visits["/ticker/AAPL/"]["dataThrough"] or "",
    ), visits["/ticker/AAPL/"]["dataThrough"]
    assert re.fullmatch(r"\(\d+ days ago\)", visits["/"]["dataThroughFlag"] or ""), visits["/"]
    runs = visits["/pipeline-health/"]["text"].split("\nRuns\n")[-1]
    assert "⚠ future date" in runs, runs[:2000]
    assert re.search(r"2026-11-20 ⚠ \d+ days before the run", runs), runs[:2000]


def test_every_page_fits_a_phone_screen(visits) -> None:
    """At 390 px the page itself never pans sideways (a wide table scrolls inside its own
    box); the phone screenshots are <page>-phone.png."""
    overflowing = {
        path: (page["phone"]["overflowPx"], page["phone"]["stickingOut"])
        for path, page in visits.items()
        if page["phone"]["overflowPx"] > 0
    }
    assert not overflowing, overflowing
    problems = {
        path: {kind: page["phone"][kind] for kind in ("consoleErrors", "pageErrors", "unsettled")}
        for path, page in visits.items()
        if any(page["phone"][kind] for kind in ("consoleErrors", "pageErrors", "unsettled"))
    }
    assert not problems, problems
    for page in visits.values():
        assert Path(page["phone"]["screenshot"]).stat().st_size > 10_000


def test_period_buttons_change_the_charts_range(browsed, visits) -> None:
    """1M, 6M, YTD, 1Y and Max zoom AAPL's chart to that span, up to the last session."""
    clicked = browsed["periods"]
    assert not clicked["consoleErrors"] and not clicked["pageErrors"], clicked
    shown = clicked["periods"]
    dates = visits["/ticker/AAPL/"]["volumeChart"]["dates"]
    last = date.fromisoformat(str(dates[-1])[:10])
    assert all(span["last"] == str(dates[-1])[:10] for span in shown.values()), shown
    back = {name: (last - date.fromisoformat(span["first"])).days for name, span in shown.items()}
    assert 26 <= back["1M"] <= 31, shown
    assert 176 <= back["6M"] <= 184, shown
    assert 359 <= back["1Y"] <= 366, shown
    assert shown["Max"]["first"] == str(dates[0])[:10] and shown["Max"]["sessions"] == len(dates)
    ytd = date.fromisoformat(shown["YTD"]["first"])
    assert (ytd.year, ytd.month) == (last.year, 1) and ytd.day <= 7, shown
    sessions = [shown[name]["sessions"] for name in ("1M", "6M", "1Y", "Max")]
    assert sessions == sorted(sessions) and 18 <= sessions[0] <= 23, shown


def test_log_scale_and_the_benchmark_overlay(site, browsed) -> None:
    """AAPL's Log button puts its price panel on a log axis; 'vs SPY' draws SPY's adjusted
    close rebased to AAPL's on the first session shown (Max: the first of the page), so the
    last point is AAPL's first close x SPY's return over the span (from the mart)."""
    toggles = browsed["periods"]["toggles"]
    assert toggles, "no price chart after the period buttons"
    assert toggles["priceAxisType"] == "log"
    # Labelled on round prices, several of them (ECharts' own log ticks are powers of ten).
    labels = toggles["priceAxisLabels"]
    steps = {round(high - low, 6) for low, high in itertools.pairwise(labels)}
    assert len(labels) >= 3 and len(steps) == 1, labels
    step = steps.pop()
    assert all(round(label / step, 6).is_integer() for label in labels), labels
    drawn = toggles["benchmark"]
    assert drawn and drawn["name"] == "SPY (rebased)", drawn
    (first_day, first_value), (last_day, last_value) = drawn["first"], drawn["last"]
    closes = dict(
        query(
            site["env"],
            "select ticker || ' ' || trade_date, adj_close from marts.fct_price_features_daily "
            f"where ticker in ('AAPL', 'SPY') and trade_date in ('{first_day[:10]}', "
            f"'{last_day[:10]}')",
        )
    )
    aapl_first = closes[f"AAPL {first_day[:10]}"]
    spy_return = closes[f"SPY {last_day[:10]}"] / closes[f"SPY {first_day[:10]}"]
    assert drawn["tickerCloseAtFirst"] == pytest.approx(aapl_first)
    assert first_value == pytest.approx(aapl_first)
    assert last_value == pytest.approx(aapl_first * spy_return)
    assert drawn["points"] > 200  # a year of sessions


def data_quality_counts(text: str) -> dict[str, tuple[int, ...]]:
    """The test counts as the built data-quality page shows them: its opening sentence, its
    'Data tests passed' figure and the latest row of Recent builds."""
    number = r"(\d[\d,]*)"
    sentence = re.search(
        rf"ran {number} data tests: {number} passed, {number} warned and {number} failed, "
        rf".* and {number} unit tests, {number} of them failing",
        text,
    )
    figure = re.search(rf"\nData tests passed\n+{number}\n", text)
    builds = text.split("\nRecent builds\n")[-1]
    latest = re.search(r"\n\d{4}-\d{2}-\d{2} \d{1,2}:\d{2}\t([\d,\t]+)\n", builds)
    assert sentence and figure and latest, text[:3000]
    as_ints = lambda values: tuple(int(value.replace(",", "")) for value in values)  # noqa: E731
    return {
        "sentence": as_ints(sentence.groups()),
        "figure": as_ints(figure.groups()),
        "latest_build": as_ints(latest.group(1).split("\t")),
    }


def test_the_data_quality_page_counts_agree(visits) -> None:
    """Read off the built page (not its queries): the headline's tests, the 'Data tests
    passed' figure and Recent builds' latest row count the same tests ('Tests passed 112'
    once stood against 137 in Recent builds)."""
    counts = data_quality_counts(visits["/data-quality/"]["text"])
    tests, passed, warned, failed, unit_tests, unit_failed = counts["sentence"]
    _, _, row_passed, row_warned, row_failed, unit_passed, row_unit_failed, _, _ = counts[
        "latest_build"
    ]
    assert passed + warned + failed == tests > 0
    assert counts["figure"] == (passed,)
    assert (row_passed, row_warned, row_failed) == (passed, warned, failed)
    assert (unit_passed + row_unit_failed, row_unit_failed) == (unit_tests, unit_failed)


# --- Issue 16: the intraday session page --------------------------------------------------

ALERT_TYPES = ("vwap_cross_up", "vwap_cross_down", "volume_spike", "new_session_high",
               "new_session_low", "large_move_up", "large_move_down", "rsi_overbought",
               "rsi_oversold")  # fmt: skip


def test_the_session_page_marks_every_alert_on_the_price_and_the_timeline(site, visits) -> None:
    """After the batch build (or a replay) the latest session's alerts are on the page: the
    ticker with the most alerts is shown first, its price chart has one marker per alert by
    type, and the timeline has every ticker's; counted in the mart, not in the page."""
    page = visits["/intraday-session/"]
    rows = query(
        site["env"],
        "select ticker, alert_type, count(*) from marts.fct_intraday_alerts "
        "where session_date = (select max(session_date) from marts.fct_intraday_features) "
        "group by all",
    )
    per_ticker: collections.Counter[str] = collections.Counter()
    per_type: collections.Counter[str] = collections.Counter()
    for ticker, alert_type, alerts in rows:
        per_ticker[ticker] += alerts
        per_type[alert_type] += alerts
    assert set(per_type) == set(ALERT_TYPES), "the sample's latest session fires every type"
    busiest = min(per_ticker, key=lambda ticker: (-per_ticker[ticker], ticker))

    assert page["sessionChart"], "no price chart with alerts on the session page"
    shown = {kind: n for ticker, kind, n in rows if ticker == busiest}
    assert page["sessionChart"]["markers"] == shown
    assert page["alertTimeline"]["markers"] == dict(per_type)
    assert sorted(page["alertTimeline"]["tickers"]) == sorted(per_ticker)

    sentence = page["firstParagraph"]
    assert f"raised {sum(per_type.values()):,} alerts" in sentence, sentence
    assert sentence.endswith(f" {busiest} raised the most ({per_ticker[busiest]})."), sentence
    # The time axis is labelled on whole hours (New York), 10:00 to 16:00 on a regular session.
    assert page["sessionChart"]["xAxisLabels"] == list(range(600, 961, 60))
    # Each legend entry draws its alert's marker, unturned (a legend does not turn its icon):
    # before, every entry was the theme's circle, and a "down" marker was an up one turned
    for chart in (page["sessionChart"], page["alertTimeline"]):
        looks = chart["looks"]
        assert {kind: (look["legendIcon"], look["rotate"]) for kind, look in looks.items()} == {
            kind: (look["symbol"], 0) for kind, look in looks.items()
        }
        pairs = (("vwap_cross_up", "vwap_cross_down"), ("large_move_up", "large_move_down"))
        for up, down in pairs:
            if up in looks and down in looks:
                assert looks[up]["symbol"] != looks[down]["symbol"], (up, down)
    # Alert types in words, never as codes.
    assert not [code for code in ALERT_TYPES if code in page["text"]]
    assert "crossed above the VWAP" in page["text"]


def test_the_ticker_page_shows_quote_details(site, visits) -> None:
    """Previous close and the last ex-dividend date as the marts have them (the sample's AAPL
    pays dividends), beside the day's and the 52-week range and the average volume."""
    text = visits["/ticker/AAPL/"]["text"]
    (previous_close, last_dividend), *_ = query(
        site["env"],
        "select (select close from marts.fct_prices_daily where ticker = 'AAPL' "
        "order by trade_date desc limit 1 offset 1), (select max(trade_date) from "
        "marts.fct_prices_daily where ticker = 'AAPL' and dividend_per_share > 0)",
    )
    assert re.search(rf"Previous close\s+\${previous_close:,.2f}\b", text), text[:1500]
    assert re.search(rf"Last ex-dividend date\s+{last_dividend}\b", text), text[:1500]
    labels = ("Day's range", "52-week range", "Avg. volume (3 months)", "Dividends (12 months)")
    for label in labels:
        assert re.search(rf"{re.escape(label)}\s+\S", text), label


# --- Issue 14: returns, tax lots and unread cells on the pages --------------------------------


def _day(value: date) -> str:
    """A date as the pages show it: Nov 20, 2026."""
    return f"{value:%b} {value.day}, {value.year}"


def _signed_pct(value: float) -> str:
    """A return as the pages show it: +6.36%, -18.68%, 0.00%."""
    return "0.00%" if round(value, 4) == 0 else f"{value:+.2%}"


def _usd(value: object, decimals: int = 0) -> str:
    return f"${float(value):,.{decimals}f}"  # type: ignore[arg-type]


def test_the_portfolio_shows_irr_beside_twr_per_period(site, visits) -> None:
    """The first account's since-inception and calendar-year rows of fct_portfolio_returns,
    each with its NAVs, flows, time-weighted and money-weighted return; the opening sentence
    gives the since-inception IRR."""
    text = visits["/portfolio/"]["text"]
    rows = query(
        site["env"],
        "select period, is_since_inception, start_date, end_date, starting_nav, "
        "net_external_flow, ending_nav, time_weighted_return, money_weighted_return, "
        "end_date = max(end_date) over () as is_latest "
        "from marts.fct_portfolio_returns where account_id = 'ACC-1001'",
    )
    assert len(rows) == 5  # since inception and 2023-2026 in the pinned sample
    for period, inception, start, end, starting, flows, ending, twr, irr, latest in rows:
        label = "Since inception" if inception else f"{period} to date" if latest else period
        line = r"\s+".join(
            re.escape(cell)
            for cell in (
                label,
                _day(start),
                _day(end),
                _usd(starting),
                _usd(flows),
                _usd(ending),
                _signed_pct(twr),
                _signed_pct(irr),
            )
        )
        assert re.search(line, text), (period, line)
        if inception:
            assert (
                f"{_signed_pct(irr)} a year money-weighted (IRR)"
                in visits["/portfolio/"]["firstParagraph"]
            )


def test_the_portfolio_return_grid_draws_the_monthly_marts_values(site, visits) -> None:
    """The two heat maps hold, cell for cell, the first account's monthly time-weighted
    returns and their excess over the benchmark (a value that rounds to 0.0 % drawn as 1e-9)."""
    rows = query(
        site["env"],
        "select time_weighted_return, excess_return from marts.fct_portfolio_returns_monthly "
        "where account_id = 'ACC-1001'",
    )
    assert len(rows) == 37

    def drawn(values: list[float]) -> list[float]:
        return sorted(round(1e-9 if round(v, 3) == 0 else v, 9) for v in values)

    expected = {
        "time-weighted": drawn([row[0] for row in rows]),
        "excess": drawn([row[1] for row in rows]),
    }
    # A month without a session (before the first, after the last) is a 0 the heat map fills
    # in and labels "—"; the page's own cells are never exactly 0.
    heatmaps = [
        sorted(round(cell[-1], 9) for cell in cells if cell[-1] != 0)
        for cells in visits["/portfolio/"]["heatmaps"]
    ]
    assert sorted(heatmaps) == sorted(expected.values())


def test_the_portfolio_shows_realized_gains_by_tax_year_and_term(site, visits) -> None:
    text = visits["/portfolio/"]["text"].split("\nBy tax year\n")[-1]
    rows = query(
        site["env"],
        "select tax_year, term, lots_matched, sales, proceeds, fees, cost, gains "
        "from marts.fct_realized_gains_yearly where account_id = 'ACC-1001'",
    )
    assert len(rows) == 6
    for year, term, lots, sales, proceeds, fees, cost, gains in rows:
        words = "Long term" if term == "long_term" else "Short term"
        cells = (
            str(year),
            words,
            str(lots),
            str(sales),
            _usd(proceeds),
            _usd(fees, 2),
            _usd(cost),
            _usd(gains),
        )
        line = r"\s+".join(re.escape(cell) for cell in cells)
        assert re.search(line, text), (year, term, line)


def test_the_portfolio_lists_the_open_lots_and_when_they_turn_long_term(site, visits) -> None:
    text = visits["/portfolio/"]["text"].split("\nOpen tax lots\n")[-1]
    (lots, long_term, next_long_term, as_of), *_ = query(
        site["env"],
        "select count(*), count(*) filter (where is_long_term), "
        "min(long_term_from) filter (where not is_long_term), max(as_of_date) "
        "from marts.fct_lots_open where account_id = 'ACC-1001'",
    )
    assert (lots, long_term) == (47, 14)
    assert (
        f"At the close of {_day(as_of)} the account holds {lots} open lots, {long_term} of them "
        f"long term; the next turns long term on {_day(next_long_term)}."
    ) in text
    # The table starts with the earliest lot to have turned long term.
    first = query(
        site["env"],
        "select ticker, buy_date, shares_held, long_term_from from marts.fct_lots_open "
        "where account_id = 'ACC-1001' and long_term_from = (select min(long_term_from) "
        "from marts.fct_lots_open where account_id = 'ACC-1001')",
    )
    lines = [
        r"\s+".join(re.escape(cell) for cell in (ticker, _day(bought), f"{float(shares):,.2f}"))
        + r"\s.*\s"
        + re.escape(_day(turns))
        + r"\s+Long term"
        for ticker, bought, shares, turns in first
    ]
    assert any(re.search(line, text) for line in lines), lines


def test_pipeline_health_lists_the_cells_the_latest_broker_runs_could_not_read(
    site, visits
) -> None:
    text = visits["/pipeline-health/"]["text"]
    rows = query(
        site["env"],
        "select pipeline, item, column_name, unparsed_cells from marts.fct_pipeline_unparsed_cells "
        "where is_latest_run_of_pipeline",
    )
    # The sample's broker export plants one unreadable executed_at cell.
    assert [(row[0], row[2], row[3]) for row in rows] == [("sample_brokerage", "executed_at", 1)]
    assert "The latest broker runs could not read 1 cell in 1 file" in text
    for pipeline, item, column, cells in rows:
        line = r"\s+".join(re.escape(str(cell)) for cell in (pipeline, item, column, cells))
        assert re.search(line, text), line
    (counted,), *_ = query(
        site["env"], "select sum(unparsed_cells_count) from marts.fct_pipeline_runs"
    )
    assert counted == 1
    assert "Unread cells" in text


# --- Issue 14: all accounts together, in the reporting currency --------------------------------


def _whole(value: object) -> str:
    """An amount as the pages round it: half away from zero (91,528.5 -> 91,529)."""
    from decimal import ROUND_HALF_UP, Decimal

    return f"{Decimal(str(value)).quantize(Decimal(1), ROUND_HALF_UP):,}"


def test_the_portfolio_shows_all_accounts_together_in_usd(site, visits) -> None:
    """The consolidated view beside the account: its opening sentence gives the latest row of
    fct_portfolio_consolidated_daily and the consolidated IRR since inception, its table each
    account in its own currency and in USD at the session's rate (fct_portfolio_daily), its
    returns table every period of fct_portfolio_consolidated_returns."""
    page = visits["/portfolio/"]
    text = page["text"]
    ((day, accounts, nav, daily, cumulative, spy, drawdown, first),) = query(
        site["env"],
        "select session_date, account_count, nav, daily_return, cumulative_return, "
        "spy_cumulative_return, return_drawdown, min(session_date) over () "
        "from marts.fct_portfolio_consolidated_daily order by session_date desc limit 1",
    )
    periods = query(
        site["env"],
        "select period, is_since_inception, start_date, end_date, starting_nav, "
        "net_external_flow, ending_nav, time_weighted_return, money_weighted_return, "
        "end_date = max(end_date) over () as is_latest "
        "from marts.fct_portfolio_consolidated_returns",
    )
    (irr,) = [row[8] for row in periods if row[1]]
    sentence = (
        f"On {day:%B} {day.day}, {day.year}, the {accounts} accounts together were worth "
        f"{_usd(nav)} in USD ({_signed_pct(daily)} on the day); since {_day(first)} they "
        f"returned {_signed_pct(cumulative)} time-weighted in USD against {_signed_pct(spy)} "
        f"for SPY, {_signed_pct(irr)} a year money-weighted (IRR), and are "
        f"{abs(round(drawdown, 4)):.2%} below their peak."
    )
    assert sentence in text, sentence
    assert accounts == 3
    for account, currency, own_nav, rate, rate_date, usd_nav, share, own, in_usd in query(
        site["env"],
        "select account_id, base_currency, nav, fx_rate_to_reporting, fx_rate_date, "
        "nav_reporting, nav_reporting / sum(nav_reporting) over (), cumulative_return, "
        "cumulative_return_reporting from marts.fct_portfolio_daily "
        "where session_date = (select max(session_date) from marts.fct_portfolio_daily)",
    ):
        cells = (
            account,
            currency,
            _whole(own_nav),
            f"{rate:.4f}",
            _day(rate_date),
            f"${_whole(usd_nav)}",
            f"{float(share):.1%}",
            _signed_pct(own),
            _signed_pct(in_usd),
        )
        line = r"\s+".join(re.escape(cell) for cell in cells)
        assert re.search(line, text), (account, line)
        if currency == "EUR":  # converted for real: the euro moved over three years
            assert rate != 1 and round(own, 4) != round(in_usd, 4)
    assert len(periods) == 5  # since inception and 2023-2026 in the pinned sample
    for period, inception, start, end, starting, flows, ending, twr, mwr, latest in periods:
        label = "Since inception" if inception else f"{period} to date" if latest else period
        cells = (label, _day(start), _day(end), _usd(starting), _usd(flows), _usd(ending))
        line = r"\s+".join(re.escape(c) for c in (*cells, _signed_pct(twr), _signed_pct(mwr)))
        assert re.search(line, text), (period, line)
    # the selected account is compared with SPY in its own currency
    assert "for SPY in USD" in page["firstParagraph"]
