"""Item pipelines, one concern each, ordered in ``crawler/settings.py``."""
