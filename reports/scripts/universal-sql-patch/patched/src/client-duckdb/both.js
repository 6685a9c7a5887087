// PATCHED by reports/scripts/patch-universal-sql.cjs (@evidence-dev/universal-sql 3.0.1, MIT, (c) Evidence).
// Adds parquetToIPCStream, shared by the Node and browser clients: the Arrow IPC stream of
// a source table's parquet file, also of the empty file build-parquet.js writes for a query
// without rows.
import { Type } from 'apache-arrow';

/**
 * Converts an Apache Arrow type to an Evidence type.
 *
 * @param {import("apache-arrow").Type} type
 */
function apacheToEvidenceType(type) {
	switch (
		type.typeId // maybe just replace with `typeof`
	) {
		case Type.Date:
			return 'date';
		case Type.Float:
		case Type.Int:
			return 'number';
		case Type.Bool:
			return 'boolean';
		case Type.Dictionary:
		default:
			return 'string';
	}
}

/**
 * Converts an Apache Arrow table to a Javascript array.
 * @param {import("apache-arrow").Table} table
 * @returns {any[]}
 */
export function arrowTableToJSON(table) {
	if (table == null) return [];
	const arr = table.toArray();

	Object.defineProperty(arr, '_evidenceColumnTypes', {
		enumerable: false,
		value: table.schema.fields.map((field) => ({
			name: field.name,
			evidenceType: apacheToEvidenceType(field.type),
			typeFidelity: 'precise'
		}))
	});

	const date_cols = table.schema.fields.filter((field) => field.type.typeId === Type.Date);
	const list_cols = table.schema.fields.filter((field) => field.type.typeId === Type.List);

	for (const row of arr) {
		for (const col of date_cols) {
			row[col.name] = new Date(row[col.name]);
		}
		for (const col of list_cols) {
			row[col.name] = arrowVectorToJSON(row[col.name]);
		}
	}

	return arr;
}

/**
 * Converts an Apache Arrow vector to a Javascript array.
 * @param {import("apache-arrow").Vector} vector
 * @returns {any[]}
 */
function arrowVectorToJSON(vector) {
	if (vector == null) return [];
	const arr = vector.toArray();

	const date_cols = vector.type?.children?.filter((field) => field.type.typeId === Type.Date) ?? [];
	const list_cols = vector.type?.children?.filter((field) => field.type.typeId === Type.List) ?? [];

	for (const row of arr) {
		for (const col of date_cols) {
			row[col.name] = new Date(row[col.name]);
		}
		for (const col of list_cols) {
			row[col.name] = arrowVectorToJSON(row[col.name]);
		}
	}

	return arr;
}

/**
 * Creates a new Promise object and returns it along with its resolve and reject functions.
 *
 * @return {{resolve: CallableFunction, reject: CallableFunction, promise: Promise<void>}} An object containing the resolve and reject functions, as well as the Promise object.
 */
export function getPromise() {
	let resolve, reject;
	let promise = new Promise((res, rej) => {
		resolve = res;
		reject = rej;
	});
	return { resolve, reject, promise };
}

export function withTimeout(p) {
	return Promise.race([
		p,
		new Promise((_, rej) =>
			// If the database isn't initialized after 5 seconds, throw an error
			setTimeout(() => rej(new Error('Timeout while initializing database')), 5000)
		)
	]);
}

const ARROW_SCHEMA_KEY = new TextEncoder().encode('ARROW:schema');

/**
 * The Arrow IPC stream of a parquet file, to insert into DuckDB-Wasm.
 *
 * A file without rows (build-parquet.js writes one for a query that returned none) has no
 * record batch, and parquet-wasm cannot stream a table without one. Its Arrow schema is
 * then taken from the file's footer, where parquet-wasm's writer keeps it (key-value
 * metadata ARROW:schema: a base64 IPC schema message), and sent alone: DuckDB-Wasm makes
 * an empty table with the query's columns and types of it.
 *
 * @param {(bytes: Uint8Array) => import('parquet-wasm').Table} readParquet parquet-wasm's, of the caller's build
 * @param {Uint8Array} parquetBytes
 * @returns {Uint8Array}
 */
export function parquetToIPCStream(readParquet, parquetBytes) {
	const table = readParquet(parquetBytes);
	if (table.numBatches > 0) return table.intoIPCStream();
	table.free();
	const schemaMessage = arrowSchemaMessage(parquetBytes);
	const stream = new Uint8Array(schemaMessage.length + 8);
	stream.set(schemaMessage);
	stream.set([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0], schemaMessage.length); // end of stream
	return stream;
}

/**
 * The ARROW:schema entry of a parquet file's footer (thrift compact protocol: the KeyValue
 * struct's field 1, the key, and field 2, the value, each a binary with its varint length).
 *
 * @param {Uint8Array} parquetBytes
 * @returns {Uint8Array} an Arrow IPC schema message
 */
function arrowSchemaMessage(parquetBytes) {
	const view = new DataView(parquetBytes.buffer, parquetBytes.byteOffset, parquetBytes.byteLength);
	const footerLength = view.getUint32(parquetBytes.length - 8, true);
	const footer = parquetBytes.subarray(parquetBytes.length - 8 - footerLength, parquetBytes.length - 8);
	const entry = [0x18, ARROW_SCHEMA_KEY.length, ...ARROW_SCHEMA_KEY, 0x18];
	const at = footer.findIndex((_, i) => entry.every((byte, j) => footer[i + j] === byte));
	if (at < 0) throw new Error('A parquet file without rows has no ARROW:schema in its footer');
	let offset = at + entry.length;
	let length = 0;
	for (let shift = 0; ; shift += 7) {
		const byte = footer[offset++];
		length |= (byte & 0x7f) << shift;
		if (!(byte & 0x80)) break;
	}
	const base64 = new TextDecoder().decode(footer.subarray(offset, offset + length));
	return Uint8Array.from(atob(base64), (character) => character.charCodeAt(0));
}
