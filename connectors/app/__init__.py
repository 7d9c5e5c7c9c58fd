"""The mobile-app channel: the shop's app backend talks to Kefu server to server.

Inbound messages arrive signed on ``POST /api/app/messages`` (``routes``); replies and agent
messages go back to the app's webhook through a durable Redis queue (``delivery``).
"""
