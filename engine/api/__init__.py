"""Pinpoint-compatible REST API served by the worker's web server."""
