"""Text as the models see it: tweet normalisation (:mod:`.preprocess`, its steps in
:mod:`.steps` and its options in :mod:`.options`) and tokenisation (:mod:`.tokens`)."""
