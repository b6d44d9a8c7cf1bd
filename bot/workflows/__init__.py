"""Workflows: the model (jobs, steps, image builds), and edits that keep every other byte."""
