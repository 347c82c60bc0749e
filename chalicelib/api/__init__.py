"""HTTP faces of the product: route declarations, request/response models, OpenAPI."""
