"""Step library shared by every feature; registered from the root conftest through ``pytest_plugins``."""
