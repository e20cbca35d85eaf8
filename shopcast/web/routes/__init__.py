"""HTTP routes, one module per area; each declares its operations on its own `api`."""
