"""Reports: what each episode and each show brought, from the facts the other domains recorded."""
