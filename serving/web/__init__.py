"""The web UI: catalog, model and recommendation pages over the API, from the same origin.

Plain HTML, CSS and JavaScript modules, committed as they are served (no build step), so the
server needs nothing but these files at run time.
"""
