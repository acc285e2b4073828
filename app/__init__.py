"""schoolgraph: one typed GraphQL graph over a school's student data."""
