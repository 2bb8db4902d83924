"""The market-data actors: the mark window, the websocket streamer and the REST quote poller."""
