"""``odio label``: label your own tweets in the browser, with a team, in the order that
teaches the model most.

- :mod:`odio.label.project`: the SQLite project (tweets, annotators, votes, queue) and its
  export in the Datathon vote format that ``odio train --min-votes`` reads;
- :mod:`odio.label.create`: a project from a file of tweets (ranked by a run's fold models)
  or from a run's suspected label errors;
- :mod:`odio.label.web`: the labelling page and its JSON API (standard library server);
- :mod:`odio.label.strategies`, :mod:`odio.label.agreement`, :mod:`odio.label.review`,
  :mod:`odio.label.retrain`: which tweet next, inter-annotator agreement, suspected label
  errors, and a TF-IDF run from the labels so far.

Nothing is imported here, so ``odio label --help`` stays fast.

>>> import odio.label.project  # doctest: +SKIP
"""
