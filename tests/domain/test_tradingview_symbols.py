"""TradingView tickers and the names a strategy may list them under (CONTRACT.md "Config file")."""

import pytest

from station.domain.tradingview_symbols import ticker_candidates


@pytest.mark.parametrize("sent,names", [
    ("AAPL", ("AAPL",)),
    ("NASDAQ:AAPL", ("NASDAQ:AAPL", "AAPL")),
    ("CME_MINI:ES1!", ("CME_MINI:ES1!", "ES1!", "ES")),
    ("ES1!", ("ES1!", "ES")),
    ("CME_MINI:MES2!", ("CME_MINI:MES2!", "MES2!", "MES")),
    ("CME:6E1!", ("CME:6E1!", "6E1!", "6E")),
    ("CME_MINI:M2K1!", ("CME_MINI:M2K1!", "M2K1!", "M2K")),
    ("ESZ2025", ("ESZ2025",)),  # a dated contract is its own name
    ("  NYSE:BRK.B ", ("NYSE:BRK.B", "BRK.B")),
    ("", ()),
    ("NASDAQ:", ("NASDAQ:",)),
])
def test_candidates_as_sent_then_without_prefix_then_the_continuous_root(sent, names):
    assert ticker_candidates(sent) == names
