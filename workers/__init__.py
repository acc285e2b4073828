"""arq workers (imports, syncs, deliveries). The queue arrives with the imports issue."""
