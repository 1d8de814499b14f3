"""truelabel.estimate."""
