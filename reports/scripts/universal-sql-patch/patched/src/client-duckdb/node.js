// PATCHED by reports/scripts/patch-universal-sql.cjs (@evidence-dev/universal-sql 3.0.1, MIT, (c) Evidence).
// Source tables are read from their parquet files with parquet-wasm and inserted into
// DuckDB-Wasm as Arrow tables, instead of views over read_parquet(): read_parquet needs
// DuckDB-Wasm's parquet extension, which it downloads from the internet and, offline,
// hangs forever (evidence-dev/evidence issues 3155 and 3304). Extension autoloading is
// off, so anything else that would need an extension fails at once instead of hanging.
// Cost: each source table is held in memory (keep source queries small and aggregated).
import { arrowTableToJSON, getPromise, parquetToIPCStream } from './both.js';
import {
	ConsoleLogger,
	createDuckDB,
	NODE_RUNTIME,
	VoidLogger
} from '@duckdb/duckdb-wasm/dist/duckdb-node-blocking';
import { readFile } from 'fs/promises';
import { createRequire } from 'module';
import path, { dirname, resolve } from 'path';
import { cache_for_hash, get_arrow_if_sql_already_run } from '../cache-duckdb.js';
import { withTimeout } from './both.js';

const require = createRequire(import.meta.url);
const DUCKDB_DIST = dirname(require.resolve('@duckdb/duckdb-wasm'));
// Required (not imported) so that it resolves from node_modules even when this file is
// bundled into the SvelteKit server build; the node build locates its .wasm via __dirname.
const { readParquet } = require('parquet-wasm/node/arrow1.js');

export { tableFromIPC } from 'apache-arrow';

/** @type {import("@duckdb/duckdb-wasm/dist/types/src/bindings/bindings_node_base").DuckDBNodeBindings} */
let db;

/** @type {import("@duckdb/duckdb-wasm/dist/types/src/bindings/connection").DuckDBConnection} */
let connection;

const { resolve: resolveInit, reject: rejectInit, promise: initPromise } = getPromise();
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
		const DUCKDB_BUNDLES = {
			mvp: {
				mainModule: resolve(DUCKDB_DIST, './duckdb-mvp.wasm'),
				mainWorker: resolve(DUCKDB_DIST, './duckdb-node-mvp.worker.cjs')
			},
			eh: {
				mainModule: resolve(DUCKDB_DIST, './duckdb-eh.wasm'),
				mainWorker: resolve(DUCKDB_DIST, './duckdb-node-eh.worker.cjs')
			}
		};
		const logger = process.env.VITE_EVIDENCE_DEBUG ? new ConsoleLogger() : new VoidLogger();

		// and synchronous database
		db = await createDuckDB(DUCKDB_BUNDLES, logger, NODE_RUNTIME);
		await db.instantiate();
		db.open({
			query: {
				castBigIntToDouble: true,
				castTimestampToDate: true,
				castDecimalToDouble: true,
				castDurationToTime64: true
			}
		});
		connection = db.connect();

		// https://duckdb.org/2024/09/09/announcing-duckdb-110.html#breaking-sql-changes
		await connection.query('SET ieee_floating_point_ops = false;');
		// https://duckdb.org/2024/02/13/announcing-duckdb-0100.html#breaking-sql-changes
		await connection.query('SET old_implicit_casting = true;');
		// Never fetch extensions from the internet: fail fast instead of hanging offline.
		connection.query('SET autoinstall_known_extensions = false;');
		connection.query('SET autoload_known_extensions = false;');

		resolveInit();
	} catch (e) {
		rejectInit(e);
		throw e;
	}
}

/**
 * Updates the duckdb search path to include only the list of included schemas
 * @param {string[]} schemas
 * @returns {void}
 */
export function updateSearchPath(schemas) {
	connection.query(`PRAGMA search_path='${schemas.join(',')}'`);
}

/**
 * @param {string} targetGlob
 */
export async function emptyDbFs(targetGlob) {
	await db.flushFiles();
	for (const f of db.globFiles(targetGlob)) {
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
function loadParquetTable(source, table, parquetBytes) {
	const qualified = `${quoteIdentifier(source)}.${quoteIdentifier(table)}`;
	const ipcStream = parquetToIPCStream(readParquet, parquetBytes);
	connection.query(`DROP TABLE IF EXISTS ${qualified};`);
	connection.insertArrowFromIPCStream(ipcStream, { schema: source, name: table, create: true });
	loadedTables.add(qualified);

	const columns = connection
		.query(
			`SELECT column_name, data_type FROM information_schema.columns
			 WHERE table_schema = '${source.replaceAll("'", "''")}'
			   AND table_name = '${table.replaceAll("'", "''")}'`
		)
		.toArray();
	for (const { column_name, data_type } of columns) {
		if (['TIMESTAMP_S', 'TIMESTAMP_MS', 'TIMESTAMP_NS'].includes(data_type)) {
			connection.query(
				`ALTER TABLE ${qualified} ALTER COLUMN ${quoteIdentifier(column_name)} SET DATA TYPE TIMESTAMP;`
			);
		}
	}
}

/**
 * Loads each source table from its parquet file (see the note at the top of this file).
 *
 * @param {Record<string, string[]>} urls
 * @param {boolean} [append]
 * @returns {Promise<void>}
 */
export async function setParquetURLs(urls, append = false) {
	if (!append) {
		for (const qualified of loadedTables) connection.query(`DROP TABLE IF EXISTS ${qualified};`);
		loadedTables.clear();
		await emptyDbFs('*');
	}

	const pathDelimiterRegex = /[\\/]/;

	if (process.env.VITE_EVIDENCE_DEBUG) console.log(`Updating Parquet URLs`);
	for (const source in urls) {
		connection.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(source)};`);
		for (const url of urls[source]) {
			const table = url.split(pathDelimiterRegex).at(-1).slice(0, -'.parquet'.length);
			const parquetBytes = await readFile(url.split(pathDelimiterRegex).join(path.sep));
			loadParquetTable(source, table, parquetBytes);
		}
	}
}

/**
 * Queries the database with the given SQL statement.
 *
 * @param {string} sql
 * @param {Parameters<typeof cache_for_hash>[2]} [cache_options]
 * @returns {Record<string, unknown>[]}
 */
export function query(sql, cache_options) {
	let result;

	// only cache during build, because
	// parquet can/will eventually change during dev
	if (cache_options?.prerendering) {
		result = get_arrow_if_sql_already_run(sql);
	}

	// TODO: This just fails, where is the process going?
	// if cache missed, fallback to querying
	if (!result) {
		result = connection.query(sql);
	}

	if (cache_options) {
		cache_for_hash(sql, result, cache_options);
	}

	return arrowTableToJSON(result);
}

export { arrowTableToJSON };
