"""Stand-ins for outside systems that speak their real protocols on loopback, for tests and demos."""
