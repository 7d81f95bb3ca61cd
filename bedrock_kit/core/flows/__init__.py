"""Prompt Flows: InvokeFlow requests, typed events and traces, multi-turn flows.

- ``requests``: pure request builders (inputs by node name, execution ids).
- ``traces``: typed flow traces (node inputs and outputs, conditions, node actions).
- ``runtime``: the sync and native async InvokeFlow stream reader.
"""
