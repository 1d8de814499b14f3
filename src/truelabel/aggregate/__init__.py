"""truelabel.aggregate."""
