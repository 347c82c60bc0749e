"""The platform face: companies and their keys."""
