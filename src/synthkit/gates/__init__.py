"""Gates: pure functions that decide keep/drop per row with a snake_case reason prefixed by the gate."""
