"""The hidden markers that let a workflow find and replace its own comment: a failed validate takes the plan
comment's place, so that no reviewer sees an old green plan."""

MARKERS = {"plan": "<!-- clinesync-plan -->", "drift": "<!-- clinesync-drift -->"}
