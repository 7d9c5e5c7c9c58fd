"""The Kefu service process (Sanic): connectors, switchboard, APIs and pages."""
