"""Functional tests of hate-speech models: suites of labelled template cases
(:mod:`.suite`: the YAML format in :mod:`.spec`, the cases in :mod:`.cases`, their expansion
in :mod:`.expand`), the spelling obfuscations they use (:mod:`.obfuscate`), and scoring a
:class:`~odio.inference.detector.Detector` on a suite (:mod:`.run`, its results in :mod:`.results`).

The shipped suite (``es_cl``, Chilean Spanish, written for odio) is for evaluation only:
never train or tune a model on it, nor put its word lists into data augmentation."""
