-- 60-minute bars from the 15-minute ones; see macros/rollup_minute_bars.sql for the window rules.
{{ rollup_minute_bars(60, finer='fct_bars_15m') }}
