from __future__ import annotations

from app.graphql.dataloaders import RowByIdLoader
from app.imports.models import ImportJob


class ImportJobByIdLoader(RowByIdLoader):
    model = ImportJob
