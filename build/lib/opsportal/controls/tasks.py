"""Controls has no periodic work of its own: the kill switch acts at once and the
gate reads the committed row. (The clock-drift issue adds its beat task in its own
app and registers a gate NEUTRAL check; see controls.selectors.)"""
