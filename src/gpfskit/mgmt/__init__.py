"""The storage management service (REST, Collection+JSON) and its provisioning operations."""
