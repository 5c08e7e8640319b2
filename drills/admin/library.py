"""Admin for the procedure library and checklists."""
