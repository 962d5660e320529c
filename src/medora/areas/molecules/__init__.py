"""molecules."""
