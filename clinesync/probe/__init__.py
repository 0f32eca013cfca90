"""`clinesync probe`, a stage of its own beside the plan: `endpoints` says what the files configure, `checks`
calls it from where it runs."""
