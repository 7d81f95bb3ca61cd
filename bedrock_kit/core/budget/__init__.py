"""Budget: prices, pricing, the token/cost ledger, its storage, rate limits and reports.

- ``pricing``: :class:`PriceTable` over ``prices.json`` (sources and dates per entry).
- ``limits``: :class:`Limits`, what a ledger scope may spend.
- ``ledger``: :class:`Ledger`: reserve before a call, settle after.
- ``store``: where a ledger keeps its counters (:class:`MemoryStore`, the default).
- ``redis_store``: :class:`RedisStore`, one budget shared by processes and hosts.
- ``rate_limit``: :class:`RateLimiter`, requests and tokens per minute per model;
  ``redis_rates`` shares its schedules through Redis.
- ``report``: :class:`BudgetReport`, per-model usage and cost.
"""
