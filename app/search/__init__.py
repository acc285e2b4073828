"""Search by meaning: documents (what staff wrote about students) with an embedding and a
full-text vector, kept fresh by the worker, queried by hybrid rank fusion."""
