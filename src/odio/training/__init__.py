"""Training: a trainer per backend (:mod:`.trainers`, :mod:`.tfidf`, Lightning fine-tuning in
:mod:`.finetune`), the k-fold harness (:mod:`.cv`) and where its folds run (:mod:`.engines`:
here, or as Ray tasks), nested cross-validation for stacks (:mod:`.stacking`), ``odio.fit``
and the run's plan (:mod:`.fit`, :mod:`.plan`), and the trained run and its directory
(:mod:`.result`, :mod:`.run`).

Lightning is imported only by :mod:`.finetune`, and only when an encoder is trained; Ray only
by :mod:`.engines` (through :mod:`odio.cluster`), and only with ``--engine ray``.
"""
