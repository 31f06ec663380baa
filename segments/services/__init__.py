"""Every write of the segments app: segments (create, change, soft delete, presets), full
recalculations as jobs, the incremental updates after events, static membership by hand,
and seed_demo's segments. One module per part; this package re-exports the public names."""

from segments.services.demo import seed_demo_segments
from segments.services.incremental import evaluate_pending, note_customers
from segments.services.merge import give_back_static_memberships, move_static_memberships
from segments.services.recalculation import (
    queue_recalculation,
    recalculate,
    recalculate_due,
    request_recalculation,
    run_recalculation,
    running_recalculation,
    take_snapshots,
)
from segments.services.segments import create_segment, delete_segment, ensure_presets, update_segment
from segments.services.static import (
    add_from_phones_file,
    add_ids,
    add_to_segment,
    add_to_static_segment,
    remove_from_segment,
    remove_from_static_segment,
    remove_ids,
)

__all__ = [
    "add_from_phones_file",
    "add_ids",
    "add_to_segment",
    "add_to_static_segment",
    "create_segment",
    "delete_segment",
    "ensure_presets",
    "evaluate_pending",
    "give_back_static_memberships",
    "move_static_memberships",
    "note_customers",
    "queue_recalculation",
    "recalculate",
    "recalculate_due",
    "remove_from_segment",
    "remove_from_static_segment",
    "remove_ids",
    "request_recalculation",
    "run_recalculation",
    "running_recalculation",
    "seed_demo_segments",
    "take_snapshots",
    "update_segment",
]
