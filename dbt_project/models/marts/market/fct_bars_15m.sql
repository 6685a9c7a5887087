-- 15-minute bars; see macros/rollup_minute_bars.sql for the window rules.
{{ rollup_minute_bars(15) }}
