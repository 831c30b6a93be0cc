PERMISSIONS: dict[str, list[str]] = {}
