"""The TradingView webhook: the endpoint, dialects (payload), authentication, de-duplication, the component."""
