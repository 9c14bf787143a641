"""Market data: feeds (Databento live and history, replays, IB ticks, scripts' rows) into one bar hub, and its clock."""
