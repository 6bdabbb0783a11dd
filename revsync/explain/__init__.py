"""Why a subscriber has its numbers and tags, and what its transitions fired:
`report` reads it from the database, `render` writes it as text for the CLI."""
