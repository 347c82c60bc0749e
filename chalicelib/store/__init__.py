"""DynamoDB access: the single table's definition, PynamoDB models, key builders."""
