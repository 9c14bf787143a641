"""Order destinations, one folder each (paper, ib, schwab, tastytrade, ninjatrader) behind `protocol.Broker`;
`rest/` is the kit Schwab and Tastytrade share, `registry.py` builds them, `dispatcher.py` drives them."""
