"""truelabel.audit."""
