// One look per intraday alert type (marts.fct_intraday_alerts.alert_type), shared by the
// session's price chart and the alert timeline, in the order their legends list them.
// The pointing shapes are drawn as paths, not as ECharts' triangle and arrow turned with
// symbolRotate: a legend draws its icon from the series' symbol without the rotation, so a
// turned "cross down" read as an up triangle there, and the two large moves (one colour)
// could not be told apart. Every type's shape and colour together are its own.
const UP_TRIANGLE = 'path://M1,0L2,2L0,2Z';
const DOWN_TRIANGLE = 'path://M0,0L2,0L1,2Z';
const UP_ARROW = 'path://M1,0L2,2L1,1.4L0,2Z';
const DOWN_ARROW = 'path://M0,0L1,0.6L2,0L1,2Z';

export const ALERT_STYLES = {
	vwap_cross_up: { symbol: UP_TRIANGLE, color: '#1e8449' },
	vwap_cross_down: { symbol: DOWN_TRIANGLE, color: '#c0392b' },
	new_session_high: { symbol: 'circle', color: '#52be80' },
	new_session_low: { symbol: 'circle', color: '#ec7063' },
	volume_spike: { symbol: 'diamond', color: '#e67e22' },
	large_move_up: { symbol: UP_ARROW, color: '#7d3c98' },
	large_move_down: { symbol: DOWN_ARROW, color: '#7d3c98' },
	rsi_overbought: { symbol: 'rect', color: '#2471a3' },
	rsi_oversold: { symbol: 'rect', color: '#17a589' }
};

/**
 * Minutes since midnight of a New York wall time. The sources store it without a zone and
 * the browser reads it as UTC, so UTC getters keep New York's clock.
 */
export function minuteOfDay(value) {
	const time = value instanceof Date ? value : new Date(value);
	return time.getUTCHours() * 60 + time.getUTCMinutes();
}

/** "9:30", "15:59" for a minute of the day. */
export const clockLabel = (minutes) => `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, '0')}`;

/**
 * A minute-of-day axis for one session: ticks and labels on whole hours (every second hour
 * when `compact`, at phone width), whatever minute the session opens on, never crowded.
 */
export function sessionAxis(first, last, compact) {
	const step = compact ? 120 : 60;
	const hours = [];
	for (let minute = Math.ceil(first / step) * step; minute <= last; minute += step) hours.push(minute);
	return {
		type: 'value',
		min: first,
		max: last,
		axisTick: { customValues: hours },
		// The close's label ends at the plot's edge (centred on it, it was cut at phone width).
		axisLabel: { formatter: clockLabel, customValues: hours, hideOverlap: true, alignMaxLabel: 'right' },
		splitLine: { show: false },
		name: 'New York time',
		nameLocation: 'middle',
		nameGap: 26
	};
}

/**
 * A legend that wraps rather than pages (a paged legend hides most alert types on a phone),
 * and the room the plot leaves above itself for it: about two entries a line on a phone,
 * six on a wide screen. `entries`: names, or {name, icon} for an entry with its own icon.
 */
export function wrappingLegend(entries, compact) {
	const perLine = compact ? 2 : 6;
	return {
		// square icons: a marker's shape unstretched (the default 25 x 14 widened the diamond
		// and the square into the label beside them)
		legend: { top: 0, data: entries, itemWidth: 11, itemHeight: 11, itemGap: compact ? 6 : 10, textStyle: { fontSize: 11 } },
		top: 16 + 22 * Math.ceil(entries.length / perLine)
	};
}

/** An alert series' legend entry: its own marker (the theme would draw a circle for each). */
export const alertLegendEntry = (series) => ({ name: series.name, icon: series.symbol });
