"""The stages of bench/bench_catalog.py: seed the catalog, load it, run the mixes, report."""
