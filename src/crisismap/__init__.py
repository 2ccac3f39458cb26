"""crisismap."""
