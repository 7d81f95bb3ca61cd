"""Transport: how bedrock-kit reaches AWS.

``clients``: :class:`ClientSettings` (region, endpoint, credentials, retries, timeouts; secrets
never printed or pickled), :func:`client_settings_from` (the one mapping of the adapters'
client keyword arguments) and :class:`ClientPool` (one sync client per object, one async
client per object and event loop). Every feature package sends its requests through here.
"""
