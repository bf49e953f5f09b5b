"""factline: news articles in, grounded typed facts out."""
