"""A desk of a centre: the services reached through the centre's server (``hosho --server``)."""
