"""dlt source(s) for brokerage accounts and transactions in raw_brokerage."""
