"""The names a TradingView ticker may be listed under in a strategy (CONTRACT.md "Config file").

TradingView fills `{{ticker}}` as the chart shows it: with an exchange prefix
(`NASDAQ:AAPL`), and futures as continuous contracts (`CME_MINI:ES1!`, `ES1!`,
`ES2!` for the next month). A trader lists `AAPL` and `ES`. An alert's ticker reaches
a strategy that lists it as sent, else without its prefix, else (a continuous future)
by its root. Pure: no I/O.
"""

from __future__ import annotations

from functools import lru_cache

from station.domain.ticks import continuous_root


@lru_cache(maxsize=4096)  # every alert asks; a trader's tickers are few
def ticker_candidates(ticker: str) -> tuple[str, ...]:
    """The names to look `ticker` up by, most specific first, without repeats.

    `NASDAQ:AAPL` -> (`NASDAQ:AAPL`, `AAPL`); `CME_MINI:ES1!` -> (`CME_MINI:ES1!`, `ES1!`, `ES`);
    `AAPL` -> (`AAPL`,).
    """
    text = (ticker or "").strip()
    names = [text]
    _, colon, bare = text.rpartition(":")
    if colon and bare:
        names.append(bare)
    else:
        bare = text
    root = continuous_root(bare)
    if root:
        names.append(root)
    return tuple(dict.fromkeys(name for name in names if name))
