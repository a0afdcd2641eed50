"""Drawing helpers for the app and the exports (no statistics here)."""
