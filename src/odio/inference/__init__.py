"""Using a trained model: the :class:`~.detector.Detector`, scoring files (:mod:`.batch`, and
on a Ray cluster :mod:`.distributed`, its file checks in :mod:`.ray_files`), evaluating on
labelled data (:mod:`.evaluate`) and word-level explanations (:mod:`.explain`)."""
