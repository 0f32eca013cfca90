"""Plans: the difference between the files and the console, saved plans, applying them and verifying."""
