"""A student's whole record: where it is held (footprint), its export, its erasure, and
retention of what is older than the school's policy allows; and the generated files
(exports, reports) those produce, downloaded at authenticated, expiring URLs."""
