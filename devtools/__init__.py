"""Developer tooling: local stack, DynamoDB Local, benchmarks. Never deployed."""
