"""Pure SCIM semantics: filters, PATCH, resource validation, projection, pagination and ETags.

Nothing here does I/O or imports Flask; the API views and the store call these functions.
"""
