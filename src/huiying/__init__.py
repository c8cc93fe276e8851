"""Huiying (回应): user-feedback handling for consumer platforms."""

__version__ = "0.1.0"
