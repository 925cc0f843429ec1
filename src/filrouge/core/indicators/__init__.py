"""The indicators a customer-service manager reads (docs/METRICS.md defines each one): computed
by SQL in the database, grouped by channel or by period, filtered by team, agent and priority."""
