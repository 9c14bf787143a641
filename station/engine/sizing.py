"""Position size: a fixed quantity, or a risk amount divided by the money at risk per unit."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any


def position_size(params: dict[str, Any], stop_distance: float | None) -> tuple[Decimal | None, str]:
    """(quantity, why): fixed `qty`, or floor(`risk_amount` / (stop distance × `point_value`)).

    Returns (None, reason) when risk sizing cannot give at least one unit.
    """
    if params.get("sizing", "fixed") != "risk":
        return Decimal(str(params.get("qty", 1))), "fixed"
    amount = float(params["risk_amount"])
    point_value = float(params.get("point_value") or 1)
    if not stop_distance or stop_distance <= 0 or not math.isfinite(stop_distance):
        return None, "risk sizing needs a stop distance"
    units = math.floor(amount / (stop_distance * point_value) + 1e-9)
    if units < 1:
        return None, f"risk {amount:g} is less than one unit at a stop {stop_distance:g} away"
    return Decimal(units), f"risk {amount:g} / ({stop_distance:g} x {point_value:g})"
