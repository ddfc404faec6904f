"""Performance figures of aup (issue #10): `python -m bench` or `tox -e bench`; see bench/RESULTS.md."""
