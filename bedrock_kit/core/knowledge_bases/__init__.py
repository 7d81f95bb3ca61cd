"""Knowledge Bases: Retrieve and RetrieveAndGenerate (and its stream).

- ``filters``: the metadata filter builder (:class:`F`) and its validation.
- ``requests``: pure request builders for Retrieve / RetrieveAndGenerate.
- ``results``: typed retrieval results, citations and generated answers.
- ``sources``: the documents RetrieveAndGenerate reads instead of a knowledge base.
- ``runtime``: the sync and native async calls, with pagination.
"""
