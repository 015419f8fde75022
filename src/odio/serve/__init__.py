"""The HTTP API: settings (:mod:`.settings`, no web framework needed) and the FastAPI app
(:mod:`.app`, the ``serve`` extra)."""
