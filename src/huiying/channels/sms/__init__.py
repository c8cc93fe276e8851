"""The SMS channel: notices texted to a phone user through the platform's SMS gateway."""
