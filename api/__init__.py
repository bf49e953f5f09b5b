"""The HTTP layer: routes, request reading, problem responses and the OpenAPI document."""
