"""Authentication and authorisation: passwords, tokens, throttled log-ins, roles."""
