"""What the user is told while and after an install runs: the live progress and the summary."""
