"""Reading labelled tweets (:mod:`.tables`, :mod:`.labelled`) and splitting them into
folds (:mod:`.folds`)."""
