"""migrate: move a municipality's core-system data from a vendor's legacy export to the standard layout."""

__version__ = "0.1.0"
