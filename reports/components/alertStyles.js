// One look per intraday alert type (marts.fct_intraday_alerts.alert_type), shared by the
// session's price chart and the alert timeline, in the order their legends list them.
export const ALERT_STYLES = {
	vwap_cross_up: { symbol: 'triangle', color: '#1e8449', rotate: 0 },
	vwap_cross_down: { symbol: 'triangle', color: '#c0392b', rotate: 180 },
	new_session_high: { symbol: 'circle', color: '#52be80', rotate: 0 },
	new_session_low: { symbol: 'circle', color: '#ec7063', rotate: 0 },
	volume_spike: { symbol: 'diamond', color: '#e67e22', rotate: 0 },
	large_move_up: { symbol: 'arrow', color: '#7d3c98', rotate: 0 },
	large_move_down: { symbol: 'arrow', color: '#7d3c98', rotate: 180 },
	rsi_overbought: { symbol: 'rect', color: '#2471a3', rotate: 0 },
	rsi_oversold: { symbol: 'rect', color: '#17a589', rotate: 0 }
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
 * six on a wide screen.
 */
export function wrappingLegend(names, compact) {
	const perLine = compact ? 2 : 6;
	return {
		legend: { top: 0, data: names, itemGap: compact ? 6 : 10, textStyle: { fontSize: 11 } },
		top: 16 + 22 * Math.ceil(names.length / perLine)
	};
}
