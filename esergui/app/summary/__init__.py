"""The per-lesson summary dock: talk time, turns, wait-time proxies and emotions."""
