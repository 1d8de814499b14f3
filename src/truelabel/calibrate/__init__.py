"""truelabel.calibrate."""
