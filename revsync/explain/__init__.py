"""Why a subscriber has its numbers and tags, and what its transitions fired:
`parts` builds the revenue part from the subscriber's customers (pure, no I/O), `report`
reads the whole explanation from the database, `render` writes it as text for the CLI."""
