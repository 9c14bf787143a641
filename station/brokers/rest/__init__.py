"""The REST kit Schwab and Tastytrade share: the JSON client, the polling broker, snapshots, symbols, credentials."""
