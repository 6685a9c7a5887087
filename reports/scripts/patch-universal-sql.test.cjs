// Tests for patch-universal-sql.cjs. Run: node --test scripts/   (from reports/)
'use strict';

const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { test } = require('node:test');

const { ORIGINAL_SHA256, EXPECTED_VERSION, PATCHED_DIR } = require('./patch-universal-sql.cjs');

const SCRIPT = path.join(__dirname, 'patch-universal-sql.cjs');
const ORIGINAL_DIR = path.join(__dirname, 'universal-sql-patch', 'original');
const REPORTS_DIR = path.join(__dirname, '..');
const INSTALLED_DIR = path.join(REPORTS_DIR, 'node_modules', '@evidence-dev', 'universal-sql');
const FILES = Object.keys(ORIGINAL_SHA256);

const sha256 = (file) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** A copy of the pristine package (only the files the patch looks at). */
function pristinePackage(version = EXPECTED_VERSION) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'universal-sql-'));
	fs.writeFileSync(
		path.join(dir, 'package.json'),
		JSON.stringify({ name: '@evidence-dev/universal-sql', version })
	);
	for (const file of FILES) {
		fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
		fs.copyFileSync(path.join(ORIGINAL_DIR, file), path.join(dir, file));
	}
	return dir;
}

const runPatch = (dir) => spawnSync(process.execPath, [SCRIPT, dir], { encoding: 'utf8' });

const snapshot = (dir) =>
	Object.fromEntries(
		FILES.map((f) => {
			const p = path.join(dir, f);
			return [f, { sha: sha256(p), mtimeMs: fs.statSync(p).mtimeMs }];
		})
	);

test('the pristine fixtures are the published 3.0.1 files', () => {
	for (const file of FILES) assert.equal(sha256(path.join(ORIGINAL_DIR, file)), ORIGINAL_SHA256[file], file);
});

test('patches a pristine copy, then a second run changes nothing', (t) => {
	const dir = pristinePackage();
	t.after(() => fs.rmSync(dir, { recursive: true, force: true }));

	const first = runPatch(dir);
	assert.equal(first.status, 0, first.stderr);
	for (const file of FILES) {
		assert.match(first.stdout, new RegExp(`patched ${file}`));
		assert.equal(sha256(path.join(dir, file)), sha256(path.join(PATCHED_DIR, file)), file);
	}
	const patchedSource = fs.readFileSync(path.join(dir, 'src/build-parquet.js'), 'utf8');
	assert.doesNotMatch(patchedSource, /from '\.\/client-duckdb\/node\.js'/); // no DuckDB-Wasm in the writer

	const before = snapshot(dir);
	const second = runPatch(dir);
	assert.equal(second.status, 0, second.stderr);
	assert.match(second.stdout, /already patched; nothing to do/);
	assert.deepEqual(snapshot(dir), before);
});

test('finishes a partly patched copy', (t) => {
	const dir = pristinePackage();
	t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
	fs.copyFileSync(path.join(PATCHED_DIR, FILES[0]), path.join(dir, FILES[0]));

	const result = runPatch(dir);
	assert.equal(result.status, 0, result.stderr);
	for (const file of FILES) assert.equal(sha256(path.join(dir, file)), sha256(path.join(PATCHED_DIR, file)));
});

test('replaces an earlier version of the patch', (t) => {
	const dir = pristinePackage();
	t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
	const older = fs.readFileSync(path.join(PATCHED_DIR, FILES[1]), 'utf8').replace('quoteIdentifier', 'quoteName');
	fs.writeFileSync(path.join(dir, FILES[1]), older);

	const result = runPatch(dir);
	assert.equal(result.status, 0, result.stderr);
	for (const file of FILES) assert.equal(sha256(path.join(dir, file)), sha256(path.join(PATCHED_DIR, file)));
});

test('refuses another version, loudly, and touches nothing', (t) => {
	const dir = pristinePackage('3.0.2');
	t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
	const before = snapshot(dir);

	const result = runPatch(dir);
	assert.notEqual(result.status, 0);
	assert.match(result.stderr, /ERROR: found @evidence-dev\/universal-sql@3\.0\.2 .* for @evidence-dev\/universal-sql@3\.0\.1 only/);
	assert.deepEqual(snapshot(dir), before);
});

test('refuses a file it does not know, and touches nothing', (t) => {
	const dir = pristinePackage();
	t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
	fs.appendFileSync(path.join(dir, FILES[2]), '\n// edited by hand\n');
	const before = snapshot(dir);

	const result = runPatch(dir);
	assert.notEqual(result.status, 0);
	assert.match(result.stderr, /ERROR: .*browser\.js is neither the published 3\.0\.1 file nor the patched one/);
	assert.deepEqual(snapshot(dir), before);
});

test('refuses a directory without the package', (t) => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'universal-sql-'));
	t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
	const result = runPatch(dir);
	assert.notEqual(result.status, 0);
	assert.match(result.stderr, /ERROR: cannot read .*package\.json/);
});

// The patched code itself, on the installed package: write a parquet cache in two
// batches, load it into DuckDB-Wasm, query it. Offline, the unpatched code hangs here.
const installedIsPatched =
	fs.existsSync(INSTALLED_DIR) &&
	FILES.every((f) => {
		const installed = path.join(INSTALLED_DIR, f);
		return fs.existsSync(installed) && sha256(installed) === sha256(path.join(PATCHED_DIR, f));
	});

test(
	'patched universal-sql writes and reads parquet without DuckDB extensions',
	{ skip: !installedIsPatched && 'node_modules has no patched universal-sql (run npm ci)', timeout: 120_000 },
	(t) => {
		const work = fs.mkdtempSync(path.join(os.tmpdir(), 'universal-sql-smoke-'));
		t.after(() => fs.rmSync(work, { recursive: true, force: true }));
		const program = `
			import { buildMultipartParquet } from '@evidence-dev/universal-sql';
			import { initDB, setParquetURLs, query } from '@evidence-dev/universal-sql/client-duckdb';
			import path from 'node:path';
			const work = ${JSON.stringify(work)};
			const columns = [
				{ name: 'ticker', evidenceType: 'string' },
				{ name: 'trade_date', evidenceType: 'date' },
				{ name: 'close', evidenceType: 'number' },
				{ name: 'is_up', evidenceType: 'boolean' }
			];
			const rows = [
				{ ticker: 'AAA', trade_date: new Date('2024-01-02T00:00:00Z'), close: 1.5, is_up: true },
				{ ticker: 'AAA', trade_date: new Date('2024-01-03T00:00:00Z'), close: 2.5, is_up: false },
				{ ticker: 'BBB', trade_date: new Date('2024-01-04T00:00:00Z'), close: null, is_up: null }
			];
			const rowCount = await buildMultipartParquet(
				columns, rows, path.join(work, 'tmp'), path.join(work, 'out'), 'src/prices/prices.parquet', 2
			);
			await initDB();
			await setParquetURLs({ src: [path.join(work, 'out', 'src/prices/prices.parquet')] });
			const result = query('select *, typeof(trade_date) as date_type from src.prices order by trade_date');
			const settings = query("select current_setting('autoload_known_extensions') as autoload");
			const rowsOut = result.map((r) => [
				r.ticker, new Date(r.trade_date).toISOString(), r.close, r.is_up, r.date_type
			]);
			console.log(JSON.stringify({ rowCount, rows: rowsOut, types: result._evidenceColumnTypes, settings }));
		`;
		const child = spawnSync(process.execPath, ['--input-type=module', '-e', program], {
			cwd: REPORTS_DIR,
			encoding: 'utf8',
			timeout: 90_000
		});
		assert.equal(child.error, undefined, `child failed or hung: ${child.error}`);
		assert.equal(child.status, 0, child.stderr);
		const out = JSON.parse(child.stdout.trim().split('\n').at(-1));
		assert.equal(out.rowCount, 3);
		assert.deepEqual(
			out.rows,
			[
				['AAA', '2024-01-02T00:00:00.000Z', 1.5, true, 'TIMESTAMP'],
				['AAA', '2024-01-03T00:00:00.000Z', 2.5, false, 'TIMESTAMP'],
				['BBB', '2024-01-04T00:00:00.000Z', null, null, 'TIMESTAMP']
			]
		);
		assert.equal(out.types.find((c) => c.name === 'trade_date').evidenceType, 'date');
		assert.equal(out.settings[0].autoload, false);
	}
);

// A source query without rows (no brokerage data yet): published 3.0.1 writes no file but the
// table is listed anyway, and every page of the built site then fails to load. The patched
// writer writes an empty file with the columns' types, and the reader makes an empty table of it.
test(
	'patched universal-sql gives a query without rows an empty table with its column types',
	{ skip: !installedIsPatched && 'node_modules has no patched universal-sql (run npm ci)', timeout: 120_000 },
	(t) => {
		const work = fs.mkdtempSync(path.join(os.tmpdir(), 'universal-sql-empty-'));
		t.after(() => fs.rmSync(work, { recursive: true, force: true }));
		const program = `
			import { buildMultipartParquet } from '@evidence-dev/universal-sql';
			import { initDB, setParquetURLs, query } from '@evidence-dev/universal-sql/client-duckdb';
			import fs from 'node:fs';
			import path from 'node:path';
			const work = ${JSON.stringify(work)};
			const columns = [
				{ name: 'ticker', evidenceType: 'string' },
				{ name: 'trade_date', evidenceType: 'date' },
				{ name: 'close', evidenceType: 'number' },
				{ name: 'is_up', evidenceType: 'boolean' }
			];
			const file = path.join(work, 'out', 'src/lots/lots.parquet');
			const noRows = (async function* () {})();
			const rowCount = await buildMultipartParquet(
				columns, noRows, path.join(work, 'tmp'), path.join(work, 'out'), 'src/lots/lots.parquet', 2
			);
			const written = fs.existsSync(file);
			await initDB();
			await setParquetURLs({ src: [file] });
			const types = query(
				"select column_name, data_type from information_schema.columns " +
				"where table_schema = 'src' and table_name = 'lots' order by ordinal_position"
			).map((r) => [r.column_name, r.data_type]);
			const count = query('select count(*) as n from src.lots where ticker is not null')[0].n;
			console.log(JSON.stringify({ rowCount, written, types, count: Number(count) }));
		`;
		const child = spawnSync(process.execPath, ['--input-type=module', '-e', program], {
			cwd: REPORTS_DIR,
			encoding: 'utf8',
			timeout: 90_000
		});
		assert.equal(child.error, undefined, `child failed or hung: ${child.error}`);
		assert.equal(child.status, 0, child.stderr);
		const out = JSON.parse(child.stdout.trim().split('\n').at(-1));
		assert.deepEqual(out, {
			rowCount: 0,
			written: true,
			types: [
				['ticker', 'VARCHAR'],
				['trade_date', 'TIMESTAMP'],
				['close', 'DOUBLE'],
				['is_up', 'BOOLEAN']
			],
			count: 0
		});
	}
);
