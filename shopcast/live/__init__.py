"""Shows, their weekly schedule and episodes (and, later, the video itself)."""
