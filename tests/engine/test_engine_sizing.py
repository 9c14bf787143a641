"""A strategy's position size: a fixed quantity, or the risk amount over the stop distance in money."""

from decimal import Decimal as D

from station.engine.sizing import position_size


def test_fixed_and_risk_based_sizes():
    assert position_size({"qty": 3}, None) == (D(3), "fixed")
    assert position_size({"sizing": "risk", "risk_amount": 500, "point_value": 5}, 4.0)[0] == D(25)
    assert position_size({"sizing": "risk", "risk_amount": 500, "point_value": 50}, 12.5)[0] is None
    assert position_size({"sizing": "risk", "risk_amount": 500}, None)[0] is None
