"""Using a trained model: the :class:`~.detector.Detector`, scoring files (:mod:`.batch`),
evaluating on labelled data (:mod:`.evaluate`) and word-level explanations
(:mod:`.explain`)."""
