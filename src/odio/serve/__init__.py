"""The HTTP API: settings (:mod:`.settings`, no web framework needed), the micro-batcher
(:mod:`.batching`), the request and response bodies (:mod:`.schemas`), the FastAPI app
(:mod:`.app`) with what is checked before a request reaches it (:mod:`.guard`) and its
limits (:mod:`.limits`), and what runs it in one process or several (:mod:`.server`); the
app, the guard, the limits and the server need the ``serve`` extra."""
