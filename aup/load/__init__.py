"""``aup load``: many tenants' IdP traffic on Locust, with every tenant's end state verified.

``plan`` (what a run is: tenants, scenario, sizes), ``driver`` (one tenant's IdP: its directory, its admin
console from the IdP registry, the scenario's steps, the final verification) and ``report`` (figures and
verdicts, the exit code) import no Locust; ``engine`` puts drivers on Locust's users and runners (local,
master, worker) and is imported only by the ``aup load`` command, after gevent has patched the process.
"""
