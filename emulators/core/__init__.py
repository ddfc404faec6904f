"""IdP-neutral building blocks: directory, generator, link store, mapping, clock, rate-limit policy."""
