// Opens pages of the built reports site in headless Chromium, as a reader would, and reports
// what went wrong on each: console errors, uncaught exceptions, failed requests, and the
// error boxes Evidence draws in place of a component whose query failed. Saves a full-page
// screenshot of each; with --phone, also one at phone width (390 px, <page>-phone.png) with
// how far the page overflows sideways there. Driven by tests/test_reports.py; usable by hand:
//
//   node tests/browse.mjs --base http://127.0.0.1:4173 --out /tmp/shots / /portfolio/
//   node tests/browse.mjs --base ... --out ... --navigate-under /ticker/ /ticker/AAPL/ /ticker/SPY/
//   node tests/browse.mjs --base ... --out ... --select-account /portfolio/ /portfolio/
//
// Where the time goes: a page opened by URL starts DuckDB-Wasm (compiles a 34 MB module) and
// loads the parquet cache, 5-10 s of CPU per page on two cores; the page itself is ready in
// 1-2 s. Pages of one template (--navigate-under /ticker/: every /ticker/<symbol>/ page) are
// therefore opened as a reader clicking through them would: the first by URL, the others by
// in-app navigation in the same tab, which runs their queries on the database already there.
// Every other page is opened by URL, so each template is loaded and hydrated from its own
// prerendered HTML at least once. Each result says how it was opened and how long each phase
// took (`phases`, seconds).
//
// Prints one JSON object on stdout: {"pages": [...], "selection": {...} (with --select-account),
// "periods": {...} (with --click-periods)}.
// Exits 0 when it could do its job (the caller judges the findings), non-zero otherwise.
import { mkdirSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import puppeteer from 'puppeteer-core';

const USAGE = `usage: node tests/browse.mjs --base URL --out DIR [options] PATH...

Opens each PATH of the site at URL in headless Chromium and prints a JSON report.

  --base URL              the served site, e.g. http://127.0.0.1:4173
  --out DIR               where the screenshots go
  --chromium PATH         the browser (default /usr/bin/chromium)
  --navigate-under PREFIX pages under PREFIX (not PREFIX itself) after the first are opened
                          by in-app navigation in one tab, as a reader clicking through them
  --select-account PATH   after visiting PATH, pick another account in its first dropdown
                          and report the numbers before and after ("selection")
  --click-periods PATH    after visiting PATH, click each period button of its price chart
                          and report the span the chart shows, then its Log and benchmark
                          toggles and report what they draw ("periods")
  --phone                 also open every page in a phone-wide tab (390 px; in-app after the
                          first) and report its sideways overflow ("phone", <page>-phone.png)
  --concurrency N         tabs at a time (default 2; the phone pass holds one of them)
  --timeout MS            how long to wait for a page to be ready (default 60000)
  --help                  this text`;

const { values: options, positionals: paths } = parseArgs({
	allowPositionals: true,
	options: {
		base: { type: 'string' },
		out: { type: 'string' },
		chromium: { type: 'string', default: '/usr/bin/chromium' },
		'navigate-under': { type: 'string', multiple: true, default: [] },
		'select-account': { type: 'string' },
		phone: { type: 'boolean', default: false },
		'click-periods': { type: 'string' },
		timeout: { type: 'string', default: '60000' },
		concurrency: { type: 'string', default: '2' },
		help: { type: 'boolean', default: false }
	}
});
if (options.help) {
	console.log(USAGE);
	process.exit(0);
}
if (!options.base || !options.out || paths.length === 0) {
	console.error(USAGE);
	process.exit(2);
}
for (const extra of [options['select-account'], options['click-periods']]) {
	if (extra && !paths.includes(extra)) paths.push(extra);
}
const timeout = Number(options.timeout);
const width = 1400;
// A phone held upright (iPhone 12-15): every page is also looked at this wide.
const PHONE = { width: 390, height: 844 };

// Evidence's error boxes (ErrorChart, ValueError, BigValueError, InlineError, the dropdown's
// error badge, the error overlay) all carry a `border-negative` or `border-negative/50` class;
// a Delta's red background uses border-negative/20 and is not an error.
const ERROR_BOX_SELECTOR = '.border-negative, [class~="border-negative/50"]';

/** Seconds since `since` (a Date.now()), to the millisecond. */
const secondsSince = (since) => Math.round(Date.now() - since) / 1000;

/**
 * Wait until Evidence has finished loading: the page's content there, no skeletons, charts
 * drawn, the layout's provenance line shown, the network quiet. Each wait returns as soon as
 * its condition holds. Records each wait's time in `phases`; returns what did not happen in
 * time (the caller reports it; the screenshot shows it).
 */
async function settle(page, phases) {
	const late = [];
	let since = Date.now();
	const phase = (name) => {
		phases[name] = secondsSince(since);
		since = Date.now();
	};
	await page
		.waitForFunction(
			() =>
				document.querySelector('article, main') !== null &&
				document.querySelectorAll('.animate-pulse').length === 0 &&
				[...document.querySelectorAll('div.chart')].every((chart) =>
					chart.querySelector('canvas, svg')
				),
			{ timeout, polling: 100 }
		)
		.catch(() => late.push('still loading (skeletons, or charts without a canvas)'));
	phase('content');
	// The layout's provenance line (the sample banner, or "Market data through ...") comes from
	// a query of its own in the browser: on a page opened by URL it appears once DuckDB-Wasm has
	// started and loaded the parquet cache, so this also waits for the page's browser queries.
	await page
		.waitForSelector('[data-testid="sample-data-banner"], [data-testid="data-as-of"]', { timeout })
		.catch(() => late.push('no provenance line (sample banner or data-as-of stamp)'));
	phase('database');
	// Queries still running show no skeleton everywhere: wait for the network too, briefly.
	await page
		.waitForNetworkIdle({ idleTime: 500, timeout: 15000 })
		.catch(() => late.push('network still busy after 15 s'));
	phase('networkIdle');
	// Charts animate when their data arrives (a line draws itself over a second or more, longer
	// on a busy machine): show every chart in its final state before the screenshot. Evidence
	// keeps its ECharts instances on window for debugging. setOption redraws at once, and the
	// flush paints now rather than at the next animation frame (which a tab in the background
	// may not get for many seconds): no sleep needed.
	await page.evaluate(() => {
		const charts = window[Symbol.for('__evidence-chart-window-debug__')] ?? {};
		for (const chart of Object.values(charts)) {
			chart.setOption({ animation: false });
			chart.getZr?.().flush?.();
		}
	});
	phase('chartsFinal');
	return late;
}

async function inspect(page) {
	return page.evaluate((selector) => {
		const visible = (element) => {
			const box = element.getBoundingClientRect();
			return box.width > 0 && box.height > 0;
		};
		const charts = [...document.querySelectorAll('div.chart')].filter(visible);
		const main = document.querySelector('article, main');
		// The ticker page's volume pane as drawn: its dates and bar values (ECharts' own option;
		// Evidence keeps its chart instances on window for debugging). Only charts on the page
		// now: after an in-app navigation the previous page's are gone.
		const volumeOption = Object.values(window[Symbol.for('__evidence-chart-window-debug__')] ?? {})
			.filter((chart) => chart.getDom?.()?.isConnected)
			.map((chart) => chart.getOption?.())
			.find((option) => (option?.series ?? []).some((series) => series.name === 'Volume'));
		const volumeSeries = volumeOption?.series.find((series) => series.name === 'Volume');
		// Its price pane: the split lines, the dividend pins and how the price axis labels 123.
		const chart = Object.values(window[Symbol.for('__evidence-chart-window-debug__')] ?? {}).find(
			(instance) =>
				instance.getDom?.()?.isConnected &&
				(instance.getOption?.()?.series ?? []).some((series) => series.type === 'candlestick')
		);
		const candles = chart?.getOption().series.find((series) => series.type === 'candlestick');
		// The intraday session page's charts (found by their wrappers' data-testid): how many
		// alert markers each draws, by alert type (series ids "alert:<type>"), and the
		// timeline's tickers.
		const chartIn = (testid) =>
			Object.values(window[Symbol.for('__evidence-chart-window-debug__')] ?? {}).find((instance) =>
				instance.getDom?.()?.closest?.(`[data-testid="${testid}"]`)
			);
		const alertMarkers = (instance) =>
			instance
				? Object.fromEntries(
						instance
							.getOption()
							.series.filter((series) => String(series.id ?? '').startsWith('alert:'))
							.map((series) => [series.id.slice('alert:'.length), series.data.length])
					)
				: null;
		// Each alert series' marker and the icon its legend entry draws (the theme's default,
		// a circle, unless the entry names its own), by alert type.
		const alertLooks = (instance) => {
			if (!instance) return null;
			const option = instance.getOption();
			const icons = new Map(
				(option.legend?.[0]?.data ?? []).map((entry) =>
					typeof entry === 'string' ? [entry, null] : [entry.name, entry.icon ?? null]
				)
			);
			return Object.fromEntries(
				option.series
					.filter((series) => String(series.id ?? '').startsWith('alert:'))
					.map((series) => [
						series.id.slice('alert:'.length),
						{ symbol: series.symbol, rotate: series.symbolRotate ?? 0, legendIcon: icons.get(series.name) ?? null }
					])
			);
		};
		const sessionChart = chartIn('session-chart');
		const timeline = chartIn('alert-timeline');
		const priceFormatter = chart?.getOption().yAxis[0].axisLabel?.formatter;
		// Each heat map's cells as drawn ([x, y, value] per cell), for comparison with the marts.
		const heatmaps = Object.values(window[Symbol.for('__evidence-chart-window-debug__')] ?? {})
			.filter((instance) => instance.getDom?.()?.isConnected)
			.flatMap((instance) => instance.getOption?.()?.series ?? [])
			.filter((series) => series.type === 'heatmap')
			.map((series) => (series.data ?? []).map((cell) => cell?.value ?? cell));
		return {
			title: document.title,
			h1: document.querySelector('h1')?.innerText ?? null,
			firstParagraph: document.querySelector('article p, main p')?.innerText ?? null,
			errorBoxes: [...document.querySelectorAll(selector)]
				.filter(visible)
				.map((element) => element.innerText.trim().slice(0, 300)),
			charts: charts.length,
			heatmaps,
			chartsWithoutCanvas: charts.filter((chart) => !chart.querySelector('canvas, svg')).length,
			emptyMessages: [...document.querySelectorAll('p, span')]
				.filter((element) => /Dataset is empty|No Records/.test(element.innerText))
				.map((element) => element.innerText.trim().slice(0, 200)),
			links: [...document.querySelectorAll('a[href]')].map((a) => a.getAttribute('href')),
			text: main?.innerText ?? '',
			banner: document.querySelector('[data-testid="sample-data-banner"]')?.innerText ?? null,
			dataAsOf: document.querySelector('[data-testid="data-as-of"]')?.innerText ?? null,
			header: document.querySelector('header')?.innerText.trim().slice(0, 200) ?? null,
			headerImages: [...document.querySelectorAll('header img')].map((image) => image.getAttribute('src')),
			dataThrough: document.querySelector('[data-testid="data-through"]')?.innerText ?? null,
			dataThroughFlag: document.querySelector('[data-testid="data-through-flag"]')?.innerText ?? null,
			priceChart: candles
				? {
						title: chart.getOption().title?.[0]?.text ?? null,
						splits: (candles.markLine?.data ?? []).map((mark) => [mark.xAxis, mark.name]),
						dividends: (candles.markPoint?.data ?? []).map((mark) => [mark.coord[0], mark.name]),
						priceLabel123: typeof priceFormatter === 'function' ? priceFormatter(123) : null
					}
				: null,
			sessionChart: sessionChart
				? {
						markers: alertMarkers(sessionChart),
						looks: alertLooks(sessionChart),
						series: sessionChart.getOption().series.map((series) => series.name),
						xAxisLabels: sessionChart.getOption().xAxis[0].axisLabel?.customValues ?? null
					}
				: null,
			alertTimeline: timeline
				? { markers: alertMarkers(timeline), looks: alertLooks(timeline), tickers: timeline.getOption().yAxis[0].data }
				: null,
			volumeChart: volumeSeries
				? {
						dates: volumeOption.xAxis[0].data,
						volume: volumeSeries.data.map((point) => (point && typeof point === 'object' ? point.value : point))
					}
				: null
		};
	}, ERROR_BOX_SELECTOR);
}

/**
 * A tab whose problems (console errors, uncaught exceptions, failed requests) are collected
 * for the page it shows now: `tab.problems` is replaced at each visit.
 */
async function openTab(browser) {
	const page = await browser.newPage();
	await page.setViewport({ width, height: 1000 });
	const tab = { page, problems: null };
	// Each kind keeps its first 20 distinct messages: enough to diagnose, short to read.
	const note = (kind, text) => {
		const found = tab.problems?.[kind];
		if (found && found.length < 20 && !found.includes(text)) found.push(text);
	};
	page.on('console', (message) => {
		if (message.type() === 'error') note('consoleErrors', message.text().slice(0, 500));
	});
	page.on('pageerror', (error) => note('pageErrors', String(error).slice(0, 500)));
	page.on('requestfailed', (request) => {
		const reason = request.failure()?.errorText ?? '';
		// A fetch Evidence cancels itself (a prerendered result superseded by DuckDB-Wasm).
		if (reason !== 'net::ERR_ABORTED') note('failedRequests', `${request.url()} ${reason}`);
	});
	page.on('response', (response) => {
		if (response.status() >= 400) note('failedRequests', `${response.url()} ${response.status()}`);
	});
	return tab;
}

const freshProblems = () => ({ consoleErrors: [], pageErrors: [], failedRequests: [] });

/** Open `path` by URL, as a reader following a bookmark. */
async function load(tab, path) {
	const started = Date.now();
	tab.problems = freshProblems();
	const response = await tab.page.goto(new URL(path, options.base).href, {
		waitUntil: 'load',
		timeout
	});
	const phases = { open: secondsSince(started) };
	const unsettled = await settle(tab.page, phases);
	return { opened: 'url', status: response?.status() ?? null, started, phases, unsettled };
}

/**
 * Open `path` by in-app navigation, as a reader clicking a link to it: SvelteKit's router
 * handles a click on a link inside its root element. A full page load instead (the router did
 * not take the click) is reported as `opened: "url"`, so the caller can tell.
 */
async function navigate(tab, path) {
	const started = Date.now();
	tab.problems = freshProblems();
	const { page } = tab;
	const textBefore = await page.evaluate(() => document.querySelector('article, main')?.innerText ?? '');
	await page.evaluate((target) => {
		window.__browseSameDocument = true;
		const link = document.createElement('a');
		link.href = target;
		document.body.firstElementChild.appendChild(link);
		link.click();
		link.remove();
	}, path);
	// SvelteKit updates the address once the new page's data is loaded, then renders it.
	await page.waitForFunction(
		(target, before) =>
			location.pathname === target &&
			document.readyState === 'complete' &&
			(document.querySelector('article, main')?.innerText ?? before) !== before,
		{ timeout, polling: 50 },
		new URL(path, options.base).pathname,
		textBefore
	);
	const sameDocument = await page.evaluate(() => window.__browseSameDocument === true);
	const phases = { open: secondsSince(started) };
	const unsettled = await settle(page, phases);
	return { opened: sameDocument ? 'in-app' : 'url', status: 200, started, phases, unsettled };
}

function screenshotName(path, suffix = '') {
	const slug = path.replace(/^\/|\/$/g, '').replace(/[^A-Za-z0-9_-]+/g, '_') || 'index';
	return join(options.out, `${slug}${suffix}.png`);
}

/**
 * The page open in a phone-wide tab: how far its body overflows sideways (0 when it fits),
 * and the outermost elements that stick out past the right edge without a scrolling box of
 * their own around them (a table that scrolls inside its box is fine; the page must not).
 */
async function phoneFit(page) {
	return page.evaluate(() => {
		const root = document.documentElement;
		const scrollsItself = (element) => {
			for (let node = element.parentElement; node && node !== document.body; node = node.parentElement) {
				if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(node).overflowX)) return true;
			}
			return false;
		};
		const describe = (element) => {
			const classes = typeof element.className === 'string' ? element.className.trim().split(/\s+/).slice(0, 3) : [];
			const text = (element.innerText ?? '').trim().slice(0, 40);
			return `${[element.tagName.toLowerCase(), ...classes.filter(Boolean)].join('.')} "${text}"`;
		};
		const sticking = [...document.body.querySelectorAll('*')].filter((element) => {
			const box = element.getBoundingClientRect();
			return box.width > 0 && box.right > root.clientWidth + 1 && !scrollsItself(element);
		});
		const outermost = sticking.filter((element) => !sticking.includes(element.parentElement));
		return {
			overflowPx: Math.max(0, root.scrollWidth - root.clientWidth, document.body.scrollWidth - root.clientWidth),
			stickingOut: outermost.slice(0, 10).map(describe)
		};
	});
}

/**
 * Every page at phone width in one phone-wide tab, as a reader on a phone: the first page by
 * URL, the others by in-app navigation (the layout is what is checked here; each page's own
 * load is checked at desktop width). Results by path.
 */
async function phonePass(tab, pagePaths) {
	await tab.page.setViewport(PHONE);
	const results = {};
	for (const [index, path] of pagePaths.entries()) {
		const { opened, started, phases, unsettled } =
			index > 0 ? await navigate(tab, path) : await load(tab, path);
		const screenshot = screenshotName(path, '-phone');
		const fit = await phoneFit(tab.page);
		await tab.page.screenshot({ path: screenshot, fullPage: true });
		results[path] = {
			...fit, opened, screenshot, seconds: secondsSince(started), phases,
			...tab.problems, unsettled
		}; // prettier-ignore
	}
	return results;
}

/** Open `path` (by URL, or in-app when `inApp`), inspect it and take its screenshots. */
async function visit(tab, path, inApp) {
	const { opened, status, started, phases, unsettled } = inApp
		? await navigate(tab, path)
		: await load(tab, path);
	let since = Date.now();
	const findings = await inspect(tab.page);
	const screenshot = screenshotName(path);
	await tab.page.screenshot({ path: screenshot, fullPage: true });
	phases.inspectAndScreenshot = secondsSince(since);
	const problems = { ...tab.problems, unsettled };
	return { path, opened, status, seconds: secondsSince(started), phases, screenshot, ...problems, ...findings };
}

/** The text of every BigValue and inline Value on the page: what the reader sees as numbers. */
async function numbers(page) {
	return page.evaluate(() =>
		[...document.querySelectorAll('article, main')]
			.at(0)
			?.innerText.split('\n')
			.filter((line) => /\d/.test(line))
			.join('\n')
	);
}

/** On the page open in `tab`: note its numbers, pick another account in the first dropdown, note again. */
async function selectAccount(tab, path) {
	const { page } = tab;
	tab.problems = freshProblems();
	const unsettled = [];
	const before = await numbers(page);
	const sentenceBefore = await page.evaluate(
		() => document.querySelector('article p, main p')?.innerText ?? ''
	);
	const trigger = await page.waitForSelector('button[role="combobox"], [data-melt-popover-trigger], button[aria-haspopup]', { timeout });
	const selectedBefore = (await trigger.evaluate((element) => element.innerText)).trim();
	await trigger.click();
	await page.waitForSelector('[role="option"]', { timeout });
	const choices = await page.$$eval('[role="option"]', (elements) =>
		elements.map((element) => element.innerText.trim())
	);
	const other = choices.find((choice) => choice && !selectedBefore.includes(choice));
	if (!other) throw new Error(`no other account to pick: ${JSON.stringify(choices)}`);
	const handles = await page.$$('[role="option"]');
	await handles[choices.indexOf(other)].click();
	await page.keyboard.press('Escape');
	// The page's queries run again in the browser (no network, no skeleton everywhere): wait
	// for the opening sentence to be rewritten.
	await page
		.waitForFunction(
			(previous) => {
				const sentence = document.querySelector('article p, main p')?.innerText ?? '';
				return sentence !== '' && sentence !== previous;
			},
			{ timeout, polling: 100 },
			sentenceBefore
		)
		.catch(() => unsettled.push('the opening sentence did not change'));
	unsettled.push(...(await settle(page, {})));
	const after = await numbers(page);
	const selectedAfter = (await trigger.evaluate((element) => element.innerText)).trim();
	const findings = await inspect(page);
	const screenshot = screenshotName(path, '-after-select');
	await page.screenshot({ path: screenshot, fullPage: true });
	return {
		path, options: choices, selectedBefore, selectedAfter, before, after, screenshot,
		...tab.problems, unsettled, ...findings
	}; // prettier-ignore
}

/**
 * The pages in visiting order, grouped: a page under a --navigate-under prefix joins that
 * prefix's group (its first page is opened by URL, the rest in-app); any other page is a group
 * of its own. Largest groups first, so the long in-app chain starts while the rest load.
 */
function groupsOf(pagePaths) {
	const groups = new Map();
	for (const path of pagePaths) {
		const prefix = options['navigate-under'].find((under) => path.startsWith(under) && path !== under);
		const key = prefix ? `${prefix}*` : path;
		if (!groups.has(key)) groups.set(key, []);
		groups.get(key).push(path);
	}
	return [...groups.values()].sort((a, b) => b.length - a.length);
}

/**
 * On the page open in `tab`: click each period button of the price chart and note the span
 * the chart then shows (first and last session drawn, read off its time axis).
 */
async function clickPeriods(tab, path) {
	const { page } = tab;
	tab.problems = freshProblems();
	const shown = () =>
		page.evaluate(() => {
			const chart = Object.values(window[Symbol.for('__evidence-chart-window-debug__')] ?? {}).find(
				(instance) =>
					instance.getDom?.()?.isConnected &&
					(instance.getOption?.()?.series ?? []).some((series) => series.type === 'candlestick')
			);
			if (!chart) return null;
			const dates = chart.getOption().xAxis[0].data;
			// The time axis' extent after the zoom: indexes of the first and last session drawn.
			const [start, end] = chart.getModel().getComponent('xAxis', 0).axis.scale.getExtent();
			return { first: dates[Math.round(start)], last: dates[Math.round(end)], sessions: Math.round(end - start) + 1 };
		});
	const periods = {};
	for (const name of ['1M', '6M', 'YTD', '1Y', 'Max']) {
		await page.click(`button[data-period="${name}"]`);
		await page.waitForFunction(
			(period) => document.querySelector(`button[data-period="${period}"]`)?.getAttribute('aria-pressed') === 'true',
			{ timeout, polling: 50 },
			name
		);
		periods[name] = await shown();
		await page.screenshot({ path: screenshotName(path, `-period-${name}`) });
	}
	// Then the Log and benchmark toggles (on Max): the price axis' type, and the benchmark's
	// line as drawn (its first and last points, with the ticker's adjusted close at the first).
	const toggled = async (toggle) => {
		await page.click(`button[data-toggle="${toggle}"]`);
		await page.waitForFunction(
			(name) => document.querySelector(`button[data-toggle="${name}"]`)?.getAttribute('aria-pressed') === 'true',
			{ timeout, polling: 50 },
			toggle
		);
	};
	await toggled('log');
	await toggled('benchmark');
	const toggles = await page.evaluate(() => {
		const chart = Object.values(window[Symbol.for('__evidence-chart-window-debug__')] ?? {}).find(
			(instance) =>
				instance.getDom?.()?.isConnected &&
				(instance.getOption?.()?.series ?? []).some((series) => series.type === 'candlestick')
		);
		if (!chart) return null;
		const option = chart.getOption();
		const dates = option.xAxis[0].data;
		const candles = option.series.find((series) => series.type === 'candlestick');
		const overlay = option.series.find((series) => /\(rebased\)$/.test(series.name ?? ''));
		const drawn = (overlay?.data ?? []).map((value, index) => [dates[index], value]).filter(([, value]) => value != null);
		return {
			priceAxisType: option.yAxis[0].type,
			priceAxisLabels: option.yAxis[0].axisLabel?.customValues ?? null,
			benchmark: overlay
				? {
						name: overlay.name,
						points: drawn.length,
						first: drawn[0],
						last: drawn.at(-1),
						tickerCloseAtFirst: candles.data[dates.indexOf(drawn[0][0])][1]
					}
				: null
		};
	});
	await page.screenshot({ path: screenshotName(path, '-log-benchmark') });
	return { path, periods, toggles, ...tab.problems };
}

mkdirSync(options.out, { recursive: true });
const profile = mkdtempSync(join(tmpdir(), 'reports-chromium-'));
const browser = await puppeteer.launch({
	executablePath: options.chromium,
	headless: true,
	args: [
		'--headless',
		'--no-sandbox',
		'--disable-gpu',
		'--disable-quic',
		'--no-first-run',
		'--disable-background-networking',
		'--disable-component-update',
		'--disable-sync',
		// Tabs work side by side: none is throttled for being in the background (its
		// animation frames, which ECharts draws in, would wait for seconds).
		'--disable-renderer-backgrounding',
		'--disable-background-timer-throttling',
		'--disable-backgrounding-occluded-windows',
		`--user-data-dir=${profile}`,
		`--window-size=${width},1000`
	]
});
try {
	// A few tabs at a time: each page opened by URL starts DuckDB-Wasm, and the machine may
	// have two cores.
	// The phone pass is the longest chain: it goes first, and its tab takes no other work.
	const queue = [...(options.phone ? [{ phone: paths }] : []), ...groupsOf(paths)];
	const results = [];
	let selection;
	let periods;
	let phone = {};
	const worker = async () => {
		const tab = await openTab(browser);
		while (queue.length > 0) {
			const group = queue.shift();
			if (group.phone) {
				phone = await phonePass(tab, group.phone);
				break;
			}
			for (const [index, path] of group.entries()) {
				results.push(await visit(tab, path, index > 0));
				if (path === options['select-account']) selection = await selectAccount(tab, path);
				if (path === options['click-periods']) periods = await clickPeriods(tab, path);
			}
		}
		await tab.page.close();
	};
	await Promise.all(Array.from({ length: Number(options.concurrency) }, worker));
	results.sort((a, b) => paths.indexOf(a.path) - paths.indexOf(b.path));
	for (const result of results) result.phone = phone[result.path] ?? null;
	console.log(JSON.stringify({ pages: results, ...(selection ? { selection } : {}), ...(periods ? { periods } : {}) }));
} finally {
	await browser.close();
	rmSync(profile, { recursive: true, force: true });
}
