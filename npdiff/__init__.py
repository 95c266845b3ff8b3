"""npdiff: prove Kubernetes NetworkPolicy sets equivalent, or show how they differ."""

__version__ = "0.1.0"
