"""truelabel.learn."""
