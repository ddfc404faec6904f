"""aup's reference SCIM 2.0 service provider (Flask), built only through ``aup_server.app.create_app``."""
