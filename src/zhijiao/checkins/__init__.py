"""Check-ins (报到): face verification, liveness and the check-in workflow."""
