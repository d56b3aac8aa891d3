"""The centre server (``hosho serve``): it alone holds the database and runs the services."""
