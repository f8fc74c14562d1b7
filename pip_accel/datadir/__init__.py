"""The data directory: where each part of it lies, its lock, and runs' private directories."""
