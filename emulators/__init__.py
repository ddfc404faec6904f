"""IdP-side SCIM clients that behave like real IdPs on the wire.

Emulators import only ``scimcore``; an in-process server reaches them as an opaque WSGI callable.
"""
