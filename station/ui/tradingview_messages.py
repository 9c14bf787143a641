"""What a trader pastes into TradingView: the webhook URL in its forms, and an alert message per payload dialect.

The passphrase travels in the message's `passphrase` field, or — for alert messages
written without one — in the URL's query (`/webhook?passphrase=…`). `/v4/webhook` is the
same endpoint under the path pairs-api users already have in their alerts.
"""

from __future__ import annotations

import json
from urllib.parse import quote

PATHS = ("/webhook", "/v4/webhook")
ANY_STRATEGY = "Any strategy (routed by ticker)"
# (label, message with TradingView placeholders; PASSPHRASE is replaced, numbers stay unquoted where TradingView fills numbers)
DIALECTS = {
    1: ("ticker · action · qty · price · time", """{
  "passphrase": "PASSPHRASE",
  "ticker": "{{ticker}}",
  "trade_id": "{{strategy.order.id}}",
  "action": "{{strategy.order.action}}",
  "current_position": "{{strategy.prev_market_position}}",
  "qty": {{strategy.order.contracts}},
  "price": {{strategy.order.price}},
  "time": "{{timenow}}"
}"""),
    2: ("order_action · order_contracts · market position (0SPX)", """{
  "passphrase": "PASSPHRASE",
  "ticker": "{{ticker}}",
  "order_action": "{{strategy.order.action}}",
  "order_contracts": "{{strategy.order.contracts}}",
  "order_price": "{{strategy.order.price}}",
  "mar_pos": "{{strategy.market_position}}",
  "mar_pos_size": "{{strategy.market_position_size}}",
  "pre_mar_pos": "{{strategy.prev_market_position}}",
  "pre_mar_pos_size": "{{strategy.prev_market_position_size}}",
  "order_comment": "{{strategy.order.comment}}"
}"""),
    3: ("symbol · action · quantity · price · timestamp", """{
  "passphrase": "PASSPHRASE",
  "symbol": "{{ticker}}",
  "action": "{{strategy.order.action}}",
  "quantity": {{strategy.order.contracts}},
  "price": {{close}},
  "timestamp": "{{timenow}}"
}"""),
}
HINT = ("All three formats are accepted on the same URL. Placeholders in {{…}} are filled by TradingView "
        "when the alert fires; the strategy's order fills give action, contracts and positions. A ticker such as "
        "NASDAQ:AAPL or CME_MINI:ES1! reaches a strategy that lists AAPL or ES.")


def webhook_url(root: str, strategy: str | None = None, *, path: str = PATHS[0], passphrase: str | None = None) -> str:
    """The webhook URL on `root` (the receiver's address, or the public tunnel's), for one strategy or for any;
    with `passphrase`, the form that carries it in the query."""
    url = f"{root.rstrip('/')}{path}" + (f"/{quote(strategy, safe='')}" if strategy else "")
    return url + (f"?passphrase={quote(passphrase, safe='')}" if passphrase is not None else "")


def message_for(dialect: int, passphrase: str | None) -> str:
    """The alert message for `dialect` with the passphrase in it (JSON-escaped), or without the field (None)."""
    text = DIALECTS[dialect][1]
    if passphrase is None:
        return text.replace('  "passphrase": "PASSPHRASE",\n', "")
    return text.replace("PASSPHRASE", json.dumps(passphrase, ensure_ascii=False)[1:-1])
