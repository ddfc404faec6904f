"""The readable spec of one-way sync: Gherkin features, their thin steps, and the expected state they check."""
