"""`make bench`: side-by-side timings of the host's hot pages in one process."""
