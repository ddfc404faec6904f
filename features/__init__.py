"""The readable spec of one-way sync: Gherkin features, their thin steps, and the projection they check."""
