"""Order destinations, one folder each (paper, ib, schwab, tastytrade, ninjatrader), behind `Broker`."""
