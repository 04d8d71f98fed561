"""Ranking experiments (A/B tests of search settings decided from shoppers' clicks) and the
shop's default search settings, which an ended experiment's winner is written to.

- ``models.py``: SearchSettings (the singleton), Experiment, Variant;
- ``validation.py``: what a variant's settings may say (what the search service accepts);
- ``assignment.py``: a visitor's variant, stable by hash;
- ``hooks.py``: the settings step search calls before each search (search/query/settings_step.py);
- ``stats.py``: confidence intervals, significance tests, the minimum detectable effect;
- ``services.py`` / ``selectors.py``: writes and reads; ``apis.py`` and ``admin.py`` on top.
"""
