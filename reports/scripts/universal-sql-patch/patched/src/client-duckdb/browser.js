// PATCHED by reports/scripts/patch-universal-sql.cjs (@evidence-dev/universal-sql 3.0.1, MIT, (c) Evidence).
// Source tables are fetched as parquet, decoded with parquet-wasm and inserted into
// DuckDB-Wasm as Arrow tables, instead of views over read_parquet(): read_parquet needs
// DuckDB-Wasm's parquet extension, which it downloads from the internet (offline, or
// behind a firewall, the page never gets its data; evidence-dev/evidence issues 3155
// and 3304). Extension autoloading is off, so nothing else tries to download either.
// Cost: a page loads every source table when its database starts, not lazily.
import { arrowTableToJSON, getPromise, parquetToIPCStream, withTimeout } from './both.js';
import { AsyncDuckDB, ConsoleLogger, getPlatformFeatures, VoidLogger } from '@duckdb/duckdb-wasm';
import initParquetWasm, { readParquet } from 'parquet-wasm/esm/arrow1.js';

export { tableFromIPC } from 'apache-arrow';

/** @type {import("@duckdb/duckdb-wasm").AsyncDuckDB} */
let db;

/** @type {import("@duckdb/duckdb-wasm").AsyncDuckDBConnection} */
let connection;

const { resolve: resolveInit, reject: rejectInit, promise: initPromise } = getPromise();
const { resolve: resolveTables, reject: rejectTables, promise: tablesPromise } = getPromise();
let initializing = false;

/**
 * Initializes the database.
 *
 * @returns {Promise<void>}
 */
export async function initDB() {
	// If the database is already available, don't do anything
	if (db) return;

	// If the database is already initializing, don't try to do it twice
	// Instead, let the call wait for the initPromise
	if (initializing) return withTimeout(initPromise);
	// This call is the first (to execute), don't let anybody else try
	// to initialize the database
	initializing = true;
	try {
		const useEh = await getPlatformFeatures().then((x) => x.wasmExceptions);

		const DUCKDB_CONFIG = useEh
			? {
					mainModule: (await import('@duckdb/duckdb-wasm/dist/duckdb-eh.wasm?url')).default,
					mainWorker: (await import('@duckdb/duckdb-wasm/dist/duckdb-browser-eh.worker.js?worker'))
						.default
				}
			: {
					mainModule: (await import('@duckdb/duckdb-wasm/dist/duckdb-mvp.wasm?url')).default,
					mainWorker: (await import('@duckdb/duckdb-wasm/dist/duckdb-browser-mvp.worker.js?worker'))
						.default
				};

		const logger = import.meta.env.VITE_EVIDENCE_DEBUG ? new ConsoleLogger() : new VoidLogger();
		const worker = new DUCKDB_CONFIG.mainWorker();

		// use an intermediate variable to prevent db from being a not-ready database
		const _db = new AsyncDuckDB(logger, worker);
		window[Symbol.for('EVIDENCE_QUERY_ENGINE')] = _db;

		await _db.instantiate(DUCKDB_CONFIG.mainModule);
		db = _db;

		await db.open({
			query: {
				castBigIntToDouble: true,
				castTimestampToDate: true,
				castDecimalToDouble: true,
				castDurationToTime64: true
			}
		});
		connection = await db.connect();

		// https://duckdb.org/2024/09/09/announcing-duckdb-110.html#breaking-sql-changes
		await connection.query('SET ieee_floating_point_ops = false;');
		// https://duckdb.org/2024/02/13/announcing-duckdb-0100.html#breaking-sql-changes
		await connection.query('SET old_implicit_casting = true;');
		// Never fetch extensions from the internet.
		await connection.query('SET autoinstall_known_extensions = false;');
		await connection.query('SET autoload_known_extensions = false;');

		await initParquetWasm((await import('parquet-wasm/esm/arrow1_bg.wasm?url')).default);

		resolveInit();
	} catch (e) {
		rejectInit(e);
		throw e;
	}
}

/**
 * Updates the duckdb search path to include only the list of included schemas
 * @param {string[]} schemas
 * @returns {Promise<void>}
 */
export async function updateSearchPath(schemas) {
	if (!db) await initDB();

	await connection.query(`PRAGMA search_path='${schemas.join(',')}'`);
}

/**
 * @param {string} targetGlob
 */
export async function emptyDbFs(targetGlob) {
	await db.flushFiles();
	for (const f of await db.globFiles(targetGlob)) {
		await db.dropFile(f.fileName);
	}
}

/** @param {string} name */
const quoteIdentifier = (name) => `"${name.replaceAll('"', '""')}"`;

/**
 * Tables loaded by setParquetURLs, as quoted "schema"."table" names.
 * @type {Set<string>}
 */
const loadedTables = new Set();

/**
 * Creates (or replaces) the table `source`.`table` from a parquet file's bytes.
 * Timestamps come out of Arrow as TIMESTAMP_MS; they are converted to TIMESTAMP,
 * the type read_parquet gave them, so that queries behave as before the patch.
 * A file without rows makes an empty table with its columns (parquetToIPCStream).
 *
 * @param {string} source
 * @param {string} table
 * @param {Uint8Array} parquetBytes
 */
async function loadParquetTable(source, table, parquetBytes) {
	const qualified = `${quoteIdentifier(source)}.${quoteIdentifier(table)}`;
	const ipcStream = parquetToIPCStream(readParquet, parquetBytes);
	await connection.query(`DROP TABLE IF EXISTS ${qualified};`);
	await connection.insertArrowFromIPCStream(ipcStream, {
		schema: source,
		name: table,
		create: true
	});
	loadedTables.add(qualified);

	const columns = (
		await connection.query(
			`SELECT column_name, data_type FROM information_schema.columns
			 WHERE table_schema = '${source.replaceAll("'", "''")}'
			   AND table_name = '${table.replaceAll("'", "''")}'`
		)
	).toArray();
	for (const { column_name, data_type } of columns) {
		if (['TIMESTAMP_S', 'TIMESTAMP_MS', 'TIMESTAMP_NS'].includes(data_type)) {
			await connection.query(
				`ALTER TABLE ${qualified} ALTER COLUMN ${quoteIdentifier(column_name)} SET DATA TYPE TIMESTAMP;`
			);
		}
	}
}

/**
 * @param {string} url
 * @returns {Promise<Uint8Array>}
 */
async function fetchParquet(url) {
	const res = await fetch(url);
	if (!res.ok) throw new Error(`Could not fetch ${url}: HTTP ${res.status}`);
	return new Uint8Array(await res.arrayBuffer());
}

/**
 * Loads each source table from its parquet file (see the note at the top of this file).
 * @param {Record<string, string[]>} urls
 * @param {{ append?: boolean, addBasePath?: (path: string) => string }} [opts]
 * @returns {Promise<void>}
 */
export async function setParquetURLs(urls, { append, addBasePath = (x) => x } = {}) {
	if (!db) await initDB();
	if (!append) {
		for (const qualified of loadedTables)
			await connection.query(`DROP TABLE IF EXISTS ${qualified};`);
		loadedTables.clear();
		await emptyDbFs('*');
	}
	if (import.meta.env.VITE_EVIDENCE_DEBUG) console.debug('Updating Parquet URLs');

	try {
		for (const source in urls) {
			await connection.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(source)};`);
			// Download in parallel, insert one by one (one connection).
			const downloads = await Promise.all(
				urls[source].map(async (url) => {
					const table = url.split(/[\\/]/).at(-1).slice(0, -'.parquet'.length);
					let path = url;

					if (!url.startsWith('http') && !url.startsWith('/')) {
						// URL Needs to be absolute
						path = `/${url}`;
					}
					// Sveltekit doesn't like referencing the static dir expilcitly
					if (path.startsWith('/static')) path = path.substring(7);

					return { table, bytes: await fetchParquet(addBasePath(path)) };
				})
			);
			for (const { table, bytes } of downloads) {
				await loadParquetTable(source, table, bytes);
			}
		}
		resolveTables();
	} catch (e) {
		rejectTables(e);
		console.error(`Error encountered while updating Parquet URLs`, e);
		throw e;
	}
}

/**
 * Queries the database with the given SQL statement.
 *
 * @param {string} sql
 * @returns {Promise<Record<string, unknown>[]>}
 */
export async function query(sql) {
	// After this point, the database has been initialized
	if (!db) await initDB();
	// We need to wait for tables to be available. They are now downloaded and loaded
	// before tablesPromise resolves, which can take longer than withTimeout's 5 s.
	await withTablesTimeout(tablesPromise);

	// Now we can safely execute our query
	const res = await connection.query(sql).then(arrowTableToJSON);

	return res;
}

/**
 * Like withTimeout, with time to download and load the source tables.
 * @param {Promise<void>} p
 */
function withTablesTimeout(p) {
	return Promise.race([
		p,
		new Promise((_, rej) =>
			setTimeout(() => rej(new Error('Timeout while loading the source tables')), 120_000)
		)
	]);
}

export { arrowTableToJSON };
