"""Views for case reviews: the workflow (set-up to moderation) and the findings and appendices."""
