"""A strategy's position size: a fixed quantity, or the risk amount over the stop distance in money."""

from decimal import Decimal as D

from station.engine.sizing import position_size


def test_fixed_and_risk_based_sizes():
    assert position_size({"qty": 3}, None) == (D(3), "fixed")
    assert position_size({"sizing": "risk", "risk_amount": 500, "point_value": 5}, 4.0)[0] == D(25)
    assert position_size({"sizing": "risk", "risk_amount": 500, "point_value": 50}, 12.5)[0] is None
    assert position_size({"sizing": "risk", "risk_amount": 500}, None)[0] is None


def test_risk_sizing_counts_money_by_the_instrument_unless_told_otherwise():
    """A strategy sizing by risk on ES makes $50 a point (the futures table), not $1: 500 at risk over a stop 4
    points away is 2 contracts, not 125. The ticker's point_value setting wins; then the engine's own."""
    from station.domain.config import StrategyConfig, TickerConfig
    from station.domain.engine_schema import engine_params
    from station.engine.calendar import TradingCalendars
    from station.engine.group import StrategyGroup

    engine = engine_params({"kind": "crossover", "sizing": "risk", "risk_amount": 500, "stop_points": 4})
    tickers = (TickerConfig("ES"), TickerConfig("MNQ"), TickerConfig("AAPL"),
               TickerConfig("NQ", options={"point_value": 25}))
    group = StrategyGroup(StrategyConfig("S", tickers=tickers, options={"engine": engine}), TradingCalendars(), None)
    sizes = {i.ticker: position_size(i.params, 4.0)[0] for i in group.build()}
    assert sizes == {"ES": D(2), "MNQ": D(62), "AAPL": D(125), "NQ": D(5)}
    own = StrategyGroup(StrategyConfig("S", tickers=tickers, options={"engine": {**engine, "point_value": 10}}),
                        TradingCalendars(), None)
    assert {i.ticker: i.params["point_value"] for i in own.build()} == {"ES": 10, "MNQ": 10, "AAPL": 10, "NQ": 25}
