"""Using a trained model: the :class:`~.detector.Detector`, scoring files (:mod:`.batch`, and
on a Ray cluster :mod:`.distributed`, its file checks in :mod:`.ray_files`), evaluating on
labelled data (:mod:`.evaluate`) and word-level explanations (:mod:`.explain`)."""

MAX_WORDS = 256
"""Most words of a text explained by occlusion (a tweet has a few dozen; each emoji is
named in three or more words). Defined here, not in :mod:`.explain`, so that the CLI's help
and the server's settings read it without importing a model backend."""
