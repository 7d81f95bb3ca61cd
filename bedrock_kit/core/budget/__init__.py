"""Budget: prices, pricing, the token/cost ledger and its reports.

- ``pricing``: :class:`PriceTable` over ``prices.json`` (sources and dates per entry).
- ``limits``: :class:`Limits`, what a ledger scope may spend.
- ``ledger``: :class:`Ledger`: reserve before a call, settle after.
- ``report``: :class:`BudgetReport`, per-model usage and cost.
"""
