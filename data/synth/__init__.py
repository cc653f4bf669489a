"""The synthetic national data, deterministic from a seed and calibrated to ``data/facts``.

One module per table family: :mod:`.firms`, :mod:`.programs`, :mod:`.channels`, :mod:`.applications`,
:mod:`.outcomes` (the truth the scores are judged against), :mod:`.survey` (AI-use survey),
:mod:`.fingerprints` and :mod:`.plans` (contact fingerprints, business plans, planted broker rings),
:mod:`.names`. Only ``data.build`` and tests use it: nothing in ``analytics`` or ``scoring`` may.
"""
