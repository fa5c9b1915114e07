"""The archive's web UI: Datasette, read-only, configured for this domain (``yibao serve``).

``app.py`` builds the Datasette instance, ``metadata.py`` its titles, descriptions, facets and canned
queries, ``plugin.py`` the Datasette hooks (search through our CJK index, document pages with diffs,
pages of our own), ``pages.py`` those pages, ``charts.py`` the SVG charts.
"""
