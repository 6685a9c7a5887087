#!/usr/bin/env node
/*
 * Patches @evidence-dev/universal-sql 3.0.1 so that Evidence never needs DuckDB-Wasm's
 * parquet extension.
 *
 * Why: universal-sql runs DuckDB-Wasm (in Node for `evidence sources` / `evidence build`,
 * and in the browser) to write the parquet cache (COPY ... read_parquet) and to read it
 * back (views over read_parquet). read_parquet lives in DuckDB-Wasm's parquet extension,
 * which DuckDB-Wasm downloads from the internet; offline the download fails silently and
 * the process waits forever (evidence-dev/evidence issues 3155 and 3304). The patched
 * files write the parquet with parquet-wasm (already a dependency of universal-sql) and
 * read it back with parquet-wasm into DuckDB-Wasm as Arrow tables, dates converted to
 * TIMESTAMP, with extension autoloading off. And a query without rows gets a parquet file
 * too, an empty one with the query's column types (the published writer writes none, but
 * Evidence lists the table anyway and every page of the built site then fails to load), so
 * a source whose table is legitimately empty (no brokerage data yet) needs no padding row.
 *
 * How: the four changed files are kept whole, already patched, in
 * universal-sql-patch/patched/ (the pristine 3.0.1 files sit beside them in
 * universal-sql-patch/original/, so `diff -ru original patched` there shows the patch).
 * Each installed file is identified by its sha256:
 *   - the pristine 3.0.1 content -> replaced by the patched copy;
 *   - the patched content        -> left alone (so a second run changes nothing);
 *   - an earlier version of this patch (it starts with PATCHED_MARKER) -> replaced;
 *   - anything else              -> refuse, loudly, and exit non-zero.
 * The package.json version must be exactly 3.0.1.
 * Whole files with pinned hashes rather than string replacements with anchors: the hash
 * proves the file is byte for byte the one the patch was written against (an anchor only
 * proves a few lines are), the patched files are plain, readable, testable JavaScript,
 * and there is no half-applied state to reason about.
 *
 * To move to another universal-sql version: copy its four files into original/, port
 * the changes into patched/, update EXPECTED_VERSION and ORIGINAL_SHA256 below, and run
 * `node --test scripts/`.
 *
 * Usage: node scripts/patch-universal-sql.cjs [path/to/@evidence-dev/universal-sql]
 *        (default: the package in this app's node_modules). Runs as npm's postinstall.
 */
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const PACKAGE_NAME = '@evidence-dev/universal-sql';
const EXPECTED_VERSION = '3.0.1';
const PATCHED_DIR = path.join(__dirname, 'universal-sql-patch', 'patched');
const DEFAULT_PACKAGE_DIR = path.join(__dirname, '..', 'node_modules', PACKAGE_NAME);
/** First line of every patched file. */
const PATCHED_MARKER = '// PATCHED by reports/scripts/patch-universal-sql.cjs';

/** sha256 of each file as published in @evidence-dev/universal-sql 3.0.1 */
const ORIGINAL_SHA256 = {
	'src/build-parquet.js': '7376c2878449348d9f3a26f16446fc24e391545714a6be3764634fc10f9d64de',
	'src/client-duckdb/node.js': 'b1bbf1f5ae190acefe0f3ceb70d404b7798643523cc20cc4f4d5e24fbaffb471',
	'src/client-duckdb/browser.js': 'ea0c7f043bac9582e8c933764c386972c1e57fc78ee05c077370a9a0d8b012c6',
	'src/client-duckdb/both.js': '887059abbdd5515e1733217af071611120f225fb811c14a9c2ac047d74658116'
};

class PatchError extends Error {}

const sha256 = (buffer) => crypto.createHash('sha256').update(buffer).digest('hex');

/**
 * @param {string} packageDir the universal-sql package directory to patch
 * @param {(line: string) => void} [log]
 * @returns {{ patched: string[], alreadyPatched: string[] }}
 */
function patchUniversalSql(packageDir, log = console.log) {
	const packageJsonPath = path.join(packageDir, 'package.json');
	let packageJson;
	try {
		packageJson = JSON.parse(fs.readFileSync(packageJsonPath, 'utf8'));
	} catch (e) {
		throw new PatchError(`cannot read ${packageJsonPath} (${e.message}); is ${PACKAGE_NAME} installed?`);
	}
	if (packageJson.name !== PACKAGE_NAME || packageJson.version !== EXPECTED_VERSION) {
		throw new PatchError(
			`found ${packageJson.name}@${packageJson.version} in ${packageDir}, ` +
				`but this patch is for ${PACKAGE_NAME}@${EXPECTED_VERSION} only. ` +
				'Pin that version in package.json, or port the patch (see the top of scripts/patch-universal-sql.cjs).'
		);
	}

	// Decide for every file before touching any.
	const toPatch = [];
	const alreadyPatched = [];
	for (const [relativePath, originalSha] of Object.entries(ORIGINAL_SHA256)) {
		const target = path.join(packageDir, relativePath);
		const patched = fs.readFileSync(path.join(PATCHED_DIR, relativePath));
		if (!patched.toString('utf8').startsWith(PATCHED_MARKER)) {
			throw new PatchError(`${path.join(PATCHED_DIR, relativePath)} lacks the line ${PATCHED_MARKER}`);
		}
		let current;
		try {
			current = fs.readFileSync(target);
		} catch (e) {
			throw new PatchError(`cannot read ${target} (${e.message})`);
		}
		const currentSha = sha256(current);
		if (currentSha === sha256(patched)) alreadyPatched.push(relativePath);
		else if (currentSha === originalSha) toPatch.push({ relativePath, target, patched });
		else if (current.toString('utf8').startsWith(PATCHED_MARKER))
			toPatch.push({ relativePath, target, patched }); // our patch, an earlier version
		else
			throw new PatchError(
				`${target} is neither the published ${EXPECTED_VERSION} file nor the patched one ` +
					`(sha256 ${currentSha}). Reinstall it (rm -rf node_modules && npm ci) and run this again.`
			);
	}

	for (const { relativePath, target, patched } of toPatch) {
		// Write beside the target, then rename: never a half-written module.
		const temporary = `${target}.patch-${process.pid}.tmp`;
		fs.writeFileSync(temporary, patched);
		fs.renameSync(temporary, target);
		log(`patch-universal-sql: patched ${relativePath}`);
	}
	if (toPatch.length === 0) {
		log(`patch-universal-sql: ${PACKAGE_NAME}@${EXPECTED_VERSION} is already patched; nothing to do`);
	} else {
		log(`patch-universal-sql: ${PACKAGE_NAME}@${EXPECTED_VERSION} patched (parquet via parquet-wasm)`);
	}
	return { patched: toPatch.map((p) => p.relativePath), alreadyPatched };
}

module.exports = { patchUniversalSql, PatchError, ORIGINAL_SHA256, EXPECTED_VERSION, PATCHED_DIR };

if (require.main === module) {
	const packageDir = path.resolve(process.argv[2] ?? DEFAULT_PACKAGE_DIR);
	try {
		patchUniversalSql(packageDir);
	} catch (e) {
		if (!(e instanceof PatchError)) throw e;
		console.error(`patch-universal-sql: ERROR: ${e.message}`);
		process.exit(1);
	}
}
