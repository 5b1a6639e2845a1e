"""Thin Alexa handlers, one module per area; each exports an ordered ``HANDLERS`` tuple."""
