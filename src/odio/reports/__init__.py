"""Reading results: the run report (:mod:`.report`, :mod:`.plots`, :mod:`.document`), run
comparison (:mod:`.compare`) and console tables (:mod:`.console`)."""
