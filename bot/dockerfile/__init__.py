"""Dockerfiles: a model on BuildKit's own parser, and edits that splice text into the original."""
