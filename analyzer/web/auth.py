"""API keys, tenants and scopes for every endpoint: `@require("query")`.

Sets `g.principal` (the key's name, tenants, scopes; None in open mode) and `g.tenant` (the Loki
tenant this request acts for: `X-Scope-OrgID` when the key holds it, else the key's first).
"""
