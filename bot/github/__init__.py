"""The GitHub layer: the only code that talks to GitHub. Thin: requests in, data out."""
