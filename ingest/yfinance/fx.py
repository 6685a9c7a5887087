"""Currency pairs on Yahoo Finance: which symbols, and what Yahoo's answers for them look like.

A pair is loaded by the same loader as a stock (`bars_1d`, `tickers`), under Yahoo's own
conventions, which differ from an equity's:

- the symbol is `<FROM><TO>=X` (`EURUSD=X`: US dollars for one euro); Yahoo also names the
  dollar's pairs by their quote currency alone (`JPY=X` = USDJPY). yfinance tells FX apart by
  that `=X` suffix too (its price repair: "FX, volume always 0");
- `Ticker.info`: quoteType `CURRENCY`, currency = the quote currency (`USD` for EURUSD=X),
  exchange `CCY`, exchangeTimezoneName `Europe/London`;
- daily bars on every weekday, US and UK holidays included (the market trades around the
  clock from Sunday evening to Friday evening), none on weekends; each stamped 00:00
  Europe/London, so its date is the London day; Volume 0, Adj Close = Close, no dividends or
  splits;
- minute bars exist around the clock, but no model needs them: the loader asks pairs for
  daily bars only (`market_data`).

dbt splits these rows off the equity bars at staging (docs/portfolio.md, "Currencies").
"""

from __future__ import annotations

FX_SUFFIX = "=X"
FX_QUOTE_TYPE = "CURRENCY"
FX_EXCHANGE = "CCY"
FX_TIMEZONE = "Europe/London"
DEFAULT_BASE_CURRENCY = "USD"


def is_currency_pair(symbol: str) -> bool:
    """Yahoo's FX symbols end in `=X` (EURUSD=X, JPY=X); no stock or fund symbol does."""
    return symbol.upper().endswith(FX_SUFFIX)


def pair_symbol(from_currency: str, to_currency: str) -> str:
    """Yahoo's symbol of the rate in `to_currency` of one unit of `from_currency`."""
    return f"{from_currency.upper()}{to_currency.upper()}{FX_SUFFIX}"


def currency_code(text: str) -> str:
    """An ISO 4217 code as a setting gives it, checked (three letters), upper case."""
    code = text.strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise ValueError(f"{text!r} is not a currency code (three letters, e.g. USD, EUR)")
    return code


def pairs_for(currencies: set[str] | list[str], base_currency: str) -> list[str]:
    """The pairs that convert each of `currencies` into `base_currency`, sorted; none for the
    base itself."""
    base = currency_code(base_currency)
    return sorted(
        {pair_symbol(c, base) for c in (currency_code(c) for c in currencies if c) if c != base}
    )
