"""The in-app push channel: messages to a user's app through the platform's push endpoint."""
