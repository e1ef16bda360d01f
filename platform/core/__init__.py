"""Small shared building blocks with no models: domain errors and request context helpers."""
