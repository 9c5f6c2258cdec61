"""Autogenerate leaves the hand-made search objects of migration 0007 alone.

Migration 0007 adds, outside the models, the generated ``search_vector`` column of ``mall_listing`` (with its
GIN index) on PostgreSQL and the FTS5 table ``mall_listing_fts`` (with its shadow tables) on SQLite. Without
this hook ``flask db migrate`` would offer to drop them and the models-versus-migrations check would report
them. Registered in Alembic's global comparator collection (its hook for extensions), after the built-in
comparisons, it takes the ops about those objects back out."""
from alembic.autogenerate.compare import comparators
from alembic.operations import ops
from alembic.util import DispatchPriority, PriorityDispatchResult

FTS_TABLE = "mall_listing_fts"
COLUMN = ("mall_listing", "search_vector")
INDEX = "ix_mall_listing_search_vector"


def _ours(op) -> bool:
    if isinstance(op, ops.DropTableOp):
        return op.table_name == FTS_TABLE or op.table_name.startswith(FTS_TABLE + "_")
    if isinstance(op, ops.DropColumnOp):
        return (op.table_name, op.column_name) == COLUMN
    if isinstance(op, ops.DropIndexOp):
        return op.index_name == INDEX
    return False


def _prune(container) -> None:
    kept = []
    for op in container.ops:
        if isinstance(op, ops.ModifyTableOps):
            _prune(op)
            if not op.ops:
                continue
        if not _ours(op):
            kept.append(op)
    container.ops = kept


@comparators.dispatch_for("autogenerate", priority=DispatchPriority.LAST)
def _leave_search_objects_alone(autogen_context, upgrade_ops):
    _prune(upgrade_ops)
    return PriorityDispatchResult.CONTINUE
