"""The pure core: canonical JSON, Ed25519 keys, RFC 6962 hashes and signed notes, the data
model, policy and authority, and the verifier. No files, SQLite, clock or network."""
