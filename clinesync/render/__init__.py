"""Rendering plans and results for people (text), programs (JSON) and pull requests (markdown).

Renderers only format: every value they show has passed through masking first.
"""
