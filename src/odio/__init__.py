"""odio: hate-speech detection for Spanish tweets."""

__version__ = "0.1.0"
