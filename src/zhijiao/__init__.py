"""Zhijiao (智矫): the software of a district Smart Community Corrections Center."""

__version__ = "0.1.0"
