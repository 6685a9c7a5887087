// The alert markers' looks (components/alertStyles.js): what a legend shows must tell every
// alert type apart. ECharts (5.6, LegendView._createItem) turns a scatter series' legend icon
// only when legend.icon is 'inherit', so a symbolRotate on a marker is lost in the legend.
import assert from 'node:assert/strict';
import test from 'node:test';

import { ALERT_STYLES } from '../components/alertStyles.js';

test('every alert type has its own shape and colour, without rotation', () => {
	const looks = Object.entries(ALERT_STYLES).map(([type, style]) => {
		assert.equal(style.rotate ?? 0, 0, `${type} is turned, which its legend icon is not`);
		assert.equal(style.symbolRotate ?? 0, 0, `${type} is turned, which its legend icon is not`);
		return `${style.symbol} ${style.color}`;
	});
	assert.equal(new Set(looks).size, looks.length, looks.join('\n'));
});

test('the up and down variants point opposite ways', () => {
	// a path's first vertex: the apex of an up shape is at the top (y 0), of a down shape at
	// the bottom, so the pair differs in the shape itself, not only in colour
	const apexY = (symbol) => {
		const points = [...symbol.matchAll(/([0-9.]+),([0-9.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
		const middle = points.filter(([x]) => x === 1).map(([, y]) => y);
		return Math.min(...middle) === 0 ? 'top' : 'bottom';
	};
	for (const [up, down] of [
		['vwap_cross_up', 'vwap_cross_down'],
		['large_move_up', 'large_move_down']
	]) {
		assert.match(ALERT_STYLES[up].symbol, /^path:\/\//);
		assert.equal(apexY(ALERT_STYLES[up].symbol), 'top', up);
		assert.equal(apexY(ALERT_STYLES[down].symbol), 'bottom', down);
	}
});
