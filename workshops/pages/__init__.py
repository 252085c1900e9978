"""Pages between and across sessions, one module per area; each adds its part of the group page."""
