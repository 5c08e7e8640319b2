"""Report sections: one function per section, each returning a `Section` (template +
context). Sections for data the portal does not record yet (post-incident reviews,
drift, the audit chain's verification) live in their own modules and say so."""
