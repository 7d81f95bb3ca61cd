"""Transport: how bedrock-kit reaches AWS.

``clients``: :class:`ClientSettings` (region, endpoint, credentials, retries, timeouts; secrets
never printed or pickled), :func:`client_settings_from` (the one mapping of the adapters'
client keyword arguments) and :class:`ClientPool` (one sync client per object, one async
client per object and event loop). Every feature package sends its requests through here.

``deadline``: the overall per-call :class:`Deadline` (sync and async, retries and trickled
streams included). ``validation``: the input checks every feature shares (unpaired
surrogates, regions, partitions, endpoints, ARNs). ``arguments``: keyword arguments checked
by name, with the closest valid one suggested.
"""
