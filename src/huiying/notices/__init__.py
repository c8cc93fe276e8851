"""Notices: what the user is told about their ticket without a person writing it, in words admins may edit."""
