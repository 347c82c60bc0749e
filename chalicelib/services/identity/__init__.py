"""Who is calling: companies, their administrators, keys and tokens."""
