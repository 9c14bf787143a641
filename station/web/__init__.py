"""The embedded aiohttp server: TradingView webhook, REST API, script feed, health."""
