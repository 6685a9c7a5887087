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
import shutil
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

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
    run(["bash", str(REPORTS / "scripts/build.sh")], build_env, timeout=900)

    # Serve a copy: a `make reports` elsewhere must not change the files under the browser.
    served = folder / "site"
    shutil.copytree(REPORTS / "build", served)
    handler = functools.partial(_QuietHandler, directory=str(served))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    try:
        yield {"env": env, "root": served, "base": f"http://127.0.0.1:{server.server_port}"}
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
