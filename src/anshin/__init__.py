"""anshin (安心): keep every affected customer informed while the service is broken."""

__version__ = "0.1.0"
