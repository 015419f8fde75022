"""The HTTP API: settings (:mod:`.settings`, no web framework needed), the micro-batcher
(:mod:`.batching`), the FastAPI app (:mod:`.app`) and what runs it in one process or several
(:mod:`.server`); the last two need the ``serve`` extra."""
