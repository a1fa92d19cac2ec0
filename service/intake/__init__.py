"""Anonymous intake: the public report form, preview, receipt and follow-up, and the service
behind them that the JSON API shares."""
