"""The workspace's lesson list (the Lessons dock) and the analysis queue panel."""
