"""`builderos check`: the seeds' testing checklists run headless, and a contract suite for any
backend. Plain Python: scenarios drive the real app (checklist) or talk to the backend directly
(contract); the runner and the reports do not know which."""
