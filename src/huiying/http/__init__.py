"""Shared HTTP plumbing (dependencies, errors, middleware, rate limits, responses) that the
JSON API routers and the web pages both use. Absolute imports only: `huiying.http` never
shadows the standard library's `http`."""
