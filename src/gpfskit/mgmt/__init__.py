"""The REST management service."""
