"""The caseworker command line: `hamroh admin …`."""
