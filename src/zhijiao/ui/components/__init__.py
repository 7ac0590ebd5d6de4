"""Small reusable screen parts."""
