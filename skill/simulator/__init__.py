"""The local text simulator behind ``python -m skill chat``: a stand-in for Alexa's front end.

It resolves typed lines to intents from the interaction model's own samples, builds real request
envelopes, carries the session and the AudioPlayer state between lines, and posts every envelope
through the same ``POST /`` code path a device uses.
"""
