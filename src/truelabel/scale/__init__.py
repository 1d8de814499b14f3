"""truelabel.scale."""
