# Placeholder, filled in below.
