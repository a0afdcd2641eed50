"""Settings of the app: one registry (names, defaults, checks, labels) over the layers below."""
