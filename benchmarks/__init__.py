"""Scripts that build a national-scale data set and print measured figures (not tests)."""
