"""Root conftest: makes the repository importable and names the shared test data folder."""
