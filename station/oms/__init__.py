"""The order pipeline, end to end: the inbox (alerts, signals, clicks in), routing, sizing, every risk rule,
the book (orders, fills, positions, PnL) and the reconciliation with what destinations report.

It sends through commands (`SubmitOrder`, `CancelOrder`) that the dispatcher in `station/brokers/`
carries out, and learns what destinations did and can do from events; it never imports a broker.
"""
