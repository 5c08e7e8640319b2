"""The bottom layer: domain errors, web and API helpers, request context, logging.

Everything above may import from here; nothing here imports a portal app. Where a
helper needs a higher app (the refusal audit), that app registers itself (see
`opsportal.core.web.register_denial_listener`).
"""
