"""Project and module templates (``daglab init --bootstrap``)."""
