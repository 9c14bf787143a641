"""Icons and sample data, shipped as the package `station.resources`."""
