"""The sync engine: read HubSpot into the mirror, evaluate the program, push minimal patches."""
