"""truelabel.review."""
