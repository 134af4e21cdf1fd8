-- The views that read a ledger's rows run with the reader's rights
-- (security_invoker: row level security filters a bound role's rows before
-- anything it adds to a query sees them), or, where an operator reads them
-- without the tables' grants, behind a security barrier.  The API's
-- functions, which read them as the owner, are confined by their filter.
ALTER VIEW payments.account_volumes SET (security_invoker = true);
ALTER VIEW payments.account_balances SET (security_invoker = true);
ALTER VIEW payments.trial_balance SET (security_invoker = true);
ALTER VIEW payments.fx_positions SET (security_invoker = true);
ALTER VIEW payments.holds SET (security_barrier = true);
ALTER VIEW payments.monitor_holds SET (security_barrier = true);
