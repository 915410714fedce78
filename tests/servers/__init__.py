"""Real servers on loopback for the file-system tests: OpenSSH, moto's S3, and recording CLI stubs."""
