"""vocflow: Voice-of-Customer analytics, from feedback to ranked pain points."""

__version__ = "0.1.0"
