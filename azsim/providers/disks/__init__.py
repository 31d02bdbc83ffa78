"""disks resource provider."""
