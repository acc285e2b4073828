"""Compiled reads: an operation planned once and answered by one SQL statement that builds
the JSON in Postgres, with the resolver path as the fallback for what does not compile (see
DESIGN.md, "Two read paths, one answer")."""

from app.graphql.compiled.cache import PlanCache, plan_cache
from app.graphql.compiled.execute import CompiledResult, execute_compiled, execute_compiled_many

__all__ = [
    "CompiledResult",
    "PlanCache",
    "execute_compiled",
    "execute_compiled_many",
    "plan_cache",
]
