"""narrate."""
