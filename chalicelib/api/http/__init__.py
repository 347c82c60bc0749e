"""HTTP plumbing shared by every face: the route decorator, errors, HAL, OpenAPI, docs, health."""
