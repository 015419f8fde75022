"""Text as the models see it: tweet normalisation (:mod:`.preprocess`) and tokenisation
(:mod:`.tokens`)."""
