-- 15-minute bars from the 5-minute ones; see macros/rollup_minute_bars.sql for the window rules.
{{ rollup_minute_bars(15, finer='fct_bars_5m') }}
