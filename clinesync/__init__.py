"""clinesync: infrastructure-as-code for Cline organization settings."""

__version__ = "0.1.0"
