"""Small shared helpers with no domain knowledge: time, HTML, ids, hashing."""
