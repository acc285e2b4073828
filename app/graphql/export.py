"""Print the schema's SDL (`make schema` writes it to schema.graphql)."""

from app.graphql.schema import schema

if __name__ == "__main__":
    print(schema.as_str())
