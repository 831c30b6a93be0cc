"""Date formats per language (settings.FORMAT_MODULE_PATH). Templates name a format
("DATE_FORMAT"), never a pattern, so English reads "16 May 2026" and Danish "16. maj 2026"."""
