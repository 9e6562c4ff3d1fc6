"""One module per manifest source type; each exposes `fetch_missing(manifest, missing, root, lock)`,
which brings the missing files into `root` (verified where a checksum is known). The dispatch
table is `fetch.core.SOURCES`."""
