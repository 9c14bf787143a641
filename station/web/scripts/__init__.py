"""The script feed: trades and market data CSVs from external scripts, over REST and Socket.IO."""
