"""What goes to chat, by kind: each kind has its on/off switch in the `notifications` settings.

Fills and rejected orders come from the order events themselves, refused alerts from the
alerts' routing outcomes and from the webhook's refusals (a wrong passphrase: TradingView's alerts
bounce until the message is fixed); the rest are `Notified` messages of a named `kind` (a lost or
restored connection, a daily loss limit, the Schwab refresh token's expiry).
"""

from __future__ import annotations

from dataclasses import dataclass

from station.domain.enums import OrderStatus
from station.domain.events import AlertRejected, AlertUnrouted, Notified, OrderFilled, OrderUpdated, RequestRefused

# kind -> its switch in the `notifications` settings
SWITCHES = {
    "fills": "chat_fills",
    "rejections": "chat_rejections",
    "disconnects": "chat_disconnects",
    "refused-alerts": "chat_refused_alerts",
    "loss-limits": "chat_loss_limits",
    "schwab-token-expiry": "chat_schwab_token",
}
# Notified.kind as published -> the chat kind it belongs to
NOTICE_KINDS = {"disconnect": "disconnects", "loss-limit": "loss-limits", "schwab-token-expiry": "schwab-token-expiry"}


@dataclass(frozen=True, slots=True)
class ChatLine:
    """One line of a chat message, with the kind whose switch lets it through."""

    kind: str
    level: str
    text: str


def _number(value) -> str:
    return format(value.normalize(), "f") if value is not None else "?"


def chat_line(event) -> ChatLine | None:
    """The chat line an event makes, or None when it is not for chat."""
    if isinstance(event, OrderFilled):
        order, fill = event.order, event.fill
        return ChatLine("fills", "info", f"Filled {fill.side} {_number(fill.qty)} {fill.ticker} @ {_number(fill.price)}"
                        f" ({order.request.strategy or 'no strategy'} at {fill.destination}, {order.client_order_id})")
    if isinstance(event, OrderUpdated):
        order = event.order
        if order.status is not OrderStatus.REJECTED:
            return None
        request = order.request
        return ChatLine("rejections", "warning", f"Rejected {request.side} {_number(request.qty)} {request.ticker} at "
                        f"{request.destination}: {order.reason or 'no reason given'} ({order.client_order_id})")
    if isinstance(event, (AlertRejected, AlertUnrouted)):
        return ChatLine("refused-alerts", "warning", f"Alert {event.alert_id} {event.status}: {event.why or 'no reason'}")
    if isinstance(event, RequestRefused):
        refusal = event.refusal
        where = f" for strategy {refusal.strategy}" if refusal.strategy else ""
        return ChatLine("refused-alerts", "warning",
                        f"Webhook refused a request from {refusal.source}{where}: {refusal.status} {refusal.reason}")
    if isinstance(event, Notified):
        kind = NOTICE_KINDS.get(event.kind)
        return ChatLine(kind, event.level, f"{event.title}: {event.message}") if kind else None
    return None
