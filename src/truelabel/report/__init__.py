"""truelabel.report."""
