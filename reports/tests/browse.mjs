// Opens pages of the built reports site in headless Chromium, as a reader would, and reports
// what went wrong on each: console errors, uncaught exceptions, failed requests, and the
// error boxes Evidence draws in place of a component whose query failed. Saves a full-page
// screenshot of each. Driven by tests/test_reports.py; usable by hand:
//
//   node tests/browse.mjs --base http://127.0.0.1:4173 --out /tmp/shots / /portfolio/
//   node tests/browse.mjs --base ... --out ... --select-account /portfolio/
//
// Prints one JSON object on stdout: {"pages": [...]} or {"selection": {...}}.
// Exits 0 when it could do its job (the caller judges the findings), non-zero otherwise.
import { mkdirSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import puppeteer from 'puppeteer-core';

const { values: options, positionals: paths } = parseArgs({
	allowPositionals: true,
	options: {
		base: { type: 'string' },
		out: { type: 'string' },
		chromium: { type: 'string', default: '/usr/bin/chromium' },
		'select-account': { type: 'boolean', default: false },
		timeout: { type: 'string', default: '60000' },
		concurrency: { type: 'string', default: '2' }
	}
});
if (!options.base || !options.out || paths.length === 0) {
	console.error('usage: browse.mjs --base URL --out DIR [--select-account] PATH...');
	process.exit(2);
}
const timeout = Number(options.timeout);
const width = 1400;

// Evidence's error boxes (ErrorChart, ValueError, BigValueError, InlineError, the dropdown's
// error badge, the error overlay) all carry a `border-negative` or `border-negative/50` class;
// a Delta's red background uses border-negative/20 and is not an error.
const ERROR_BOX_SELECTOR = '.border-negative, [class~="border-negative/50"]';

/**
 * Wait until Evidence has finished loading: the network quiet, no skeletons, charts drawn.
 * Returns what did not happen in time (the caller reports it; the screenshot shows it).
 */
async function settle(page) {
	const late = [];
	await page
		.waitForFunction(
			() =>
				document.querySelector('article, main') !== null &&
				document.querySelectorAll('.animate-pulse').length === 0 &&
				[...document.querySelectorAll('div.chart')].every((chart) =>
					chart.querySelector('canvas, svg')
				),
			{ timeout, polling: 200 }
		)
		.catch(() => late.push('still loading (skeletons, or charts without a canvas)'));
	// The layout's provenance line (the sample banner, or "Market data through ...") comes from
	// a query of its own in the browser.
	await page
		.waitForSelector('[data-testid="sample-data-banner"], [data-testid="data-as-of"]', { timeout })
		.catch(() => late.push('no provenance line (sample banner or data-as-of stamp)'));
	// Queries still running show no skeleton everywhere: wait for the network too, briefly.
	await page
		.waitForNetworkIdle({ idleTime: 500, timeout: 15000 })
		.catch(() => late.push('network still busy after 15 s'));
	// Charts animate when their data arrives (a line draws itself over a second or more, longer
	// on a busy machine): show every chart in its final state before the screenshot. Evidence
	// keeps its ECharts instances on window for debugging.
	await page.evaluate(() => {
		const charts = window[Symbol.for('__evidence-chart-window-debug__')] ?? {};
		for (const chart of Object.values(charts)) chart.setOption({ animation: false });
	});
	await new Promise((resolve) => setTimeout(resolve, 300));
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
		// Evidence keeps its chart instances on window for debugging).
		const volumeOption = Object.values(window[Symbol.for('__evidence-chart-window-debug__')] ?? {})
			.map((chart) => chart.getOption?.())
			.find((option) => (option?.series ?? []).some((series) => series.name === 'Volume'));
		const volumeSeries = volumeOption?.series.find((series) => series.name === 'Volume');
		return {
			title: document.title,
			h1: document.querySelector('h1')?.innerText ?? null,
			firstParagraph: document.querySelector('article p, main p')?.innerText ?? null,
			errorBoxes: [...document.querySelectorAll(selector)]
				.filter(visible)
				.map((element) => element.innerText.trim().slice(0, 300)),
			charts: charts.length,
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
			volumeChart: volumeSeries
				? {
						dates: volumeOption.xAxis[0].data,
						volume: volumeSeries.data.map((point) => (point && typeof point === 'object' ? point.value : point))
					}
				: null
		};
	}, ERROR_BOX_SELECTOR);
}

async function openPage(browser, path) {
	const page = await browser.newPage();
	await page.setViewport({ width, height: 1000 });
	const problems = { consoleErrors: [], pageErrors: [], failedRequests: [] };
	// Each kind keeps its first 20 distinct messages: enough to diagnose, short to read.
	const note = (kind, text) => {
		if (problems[kind].length < 20 && !problems[kind].includes(text)) problems[kind].push(text);
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
	const started = Date.now();
	const response = await page.goto(new URL(path, options.base).href, {
		waitUntil: 'load',
		timeout
	});
	const unsettled = await settle(page);
	return { page, problems: { ...problems, unsettled }, status: response?.status() ?? null, started };
}

function screenshotName(path, suffix = '') {
	const slug = path.replace(/^\/|\/$/g, '').replace(/[^A-Za-z0-9_-]+/g, '_') || 'index';
	return join(options.out, `${slug}${suffix}.png`);
}

async function visit(browser, path) {
	const { page, problems, status, started } = await openPage(browser, path);
	const findings = await inspect(page);
	const screenshot = screenshotName(path);
	await page.screenshot({ path: screenshot, fullPage: true });
	await page.close();
	return { path, status, seconds: (Date.now() - started) / 1000, screenshot, ...problems, ...findings };
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

/** Open the page, note its numbers, pick another account in the first dropdown, note again. */
async function selectAccount(browser, path) {
	const { page, problems } = await openPage(browser, path);
	const before = await numbers(page);
	const sentenceBefore = await page.evaluate(
		() => document.querySelector('article p, main p')?.innerText ?? ''
	);
	const trigger = await page.waitForSelector('button[role="combobox"], [data-melt-popover-trigger], button[aria-haspopup]', { timeout });
	const selectedBefore = (await trigger.evaluate((element) => element.innerText)).trim();
	await trigger.click();
	await page.waitForSelector('[role="option"]', { timeout });
	const options = await page.$$eval('[role="option"]', (elements) =>
		elements.map((element) => element.innerText.trim())
	);
	const other = options.find((option) => option && !selectedBefore.includes(option));
	if (!other) throw new Error(`no other account to pick: ${JSON.stringify(options)}`);
	const handles = await page.$$('[role="option"]');
	await handles[options.indexOf(other)].click();
	await page.keyboard.press('Escape');
	// The page's queries run again in the browser (no network, no skeleton everywhere): wait
	// for the opening sentence to be rewritten.
	await page
		.waitForFunction(
			(previous) => {
				const sentence = document.querySelector('article p, main p')?.innerText ?? '';
				return sentence !== '' && sentence !== previous;
			},
			{ timeout, polling: 200 },
			sentenceBefore
		)
		.catch(() => problems.unsettled.push('the opening sentence did not change'));
	problems.unsettled.push(...(await settle(page)));
	const after = await numbers(page);
	const selectedAfter = (await trigger.evaluate((element) => element.innerText)).trim();
	const findings = await inspect(page);
	const screenshot = screenshotName(path, '-after-select');
	await page.screenshot({ path: screenshot, fullPage: true });
	await page.close();
	return { path, options, selectedBefore, selectedAfter, before, after, screenshot, ...problems, ...findings };
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
		`--user-data-dir=${profile}`,
		`--window-size=${width},1000`
	]
});
try {
	if (options['select-account']) {
		console.log(JSON.stringify({ selection: await selectAccount(browser, paths[0]) }));
	} else {
		// A few pages at a time: each runs DuckDB-Wasm, and the machine may have two cores.
		const queue = [...paths];
		const results = [];
		const worker = async () => {
			while (queue.length > 0) results.push(await visit(browser, queue.shift()));
		};
		await Promise.all(Array.from({ length: Number(options.concurrency) }, worker));
		results.sort((a, b) => paths.indexOf(a.path) - paths.indexOf(b.path));
		console.log(JSON.stringify({ pages: results }));
	}
} finally {
	await browser.close();
	rmSync(profile, { recursive: true, force: true });
}
