"""mitmproxy addons that record real IdP traffic to scimcore cassettes.

The only package that imports mitmproxy. It runs inside mitmproxy's own environment (``mitmdump -s
recording/recorder.py``), never in the project's: nothing imports it, and the ``aup record`` command
starts ``mitmdump`` on the addon file as a separate process.
"""
