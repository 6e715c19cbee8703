"""Use cases of the planner, one file each; every one takes a list of events, reads what it
needs first (by `_id`, in bulk), decides in memory, then writes once (`ports.Changes`)."""
